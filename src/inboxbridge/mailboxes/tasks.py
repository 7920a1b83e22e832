"""Background work of the mailboxes app (Django's Tasks API, see inboxbridge.jobs.tasks). Only entry
points (views, the connect flow) enqueue these, after their transaction commits."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django_tasks import task

from inboxbridge.mailboxes import actions


@task()
def purge_mailbox(mailbox_id: int) -> int:
    """Delete a disconnected mailbox's synced mail, in batches."""
    return actions.purge_retired_mailbox(mailbox_id)


def purge_on_commit(saved: actions.Saved) -> None:
    """Enqueue the deletion of the mail of a mailbox the write retired, once it has committed."""
    if saved.purge_id is not None:
        transaction.on_commit(partial(purge_mailbox.enqueue, saved.purge_id))
