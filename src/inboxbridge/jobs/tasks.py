"""Background work, declared with Django's Tasks API (the `django_tasks` backport on Django 5.2).

Application code enqueues these and never depends on a particular backend. Every task is safe to
run twice: delivery is at-least-once on every backend.
"""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def purge_mailbox(mailbox_id: int) -> int:
    """Delete a disconnected mailbox's synced mail, in batches."""
    from inboxbridge.mail.actions import purge_mailbox_mail

    return purge_mailbox_mail(mailbox_id)


@task()
def sync_mailbox(mailbox_id: int) -> None:
    from inboxbridge.sync.engine import sync_mailbox as run

    run(mailbox_id)


@task()
def push_email_flags(email_id: int) -> None:
    """Tell the server about read/flag changes made in the application."""
    from inboxbridge.sync.engine import push_flags

    push_flags(email_id)
