"""Background work of the mail app (Django's Tasks API, see inboxbridge.jobs.tasks). Only entry
points (views, other tasks) enqueue these, after their transaction commits."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django_tasks import task

from inboxbridge.mail import flag_push


@task()
def push_email_flags(email_id: int) -> None:
    """Tell the server about read/flag changes made in the application."""
    flag_push.push_flags(email_id)


def push_flags_on_commit(email_ids: Iterable[int]) -> None:
    """Enqueue the push of each changed email once the reader's click has committed: a worker must
    find the new state, and a click that was rolled back pushes nothing."""
    for email_id in email_ids:
        transaction.on_commit(partial(push_email_flags.enqueue, email_id))
