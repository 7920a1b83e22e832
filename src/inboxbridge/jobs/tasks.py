"""Background work, declared with Django's Tasks API (the `django_tasks` backport on Django 5.2;
Django 6 ships the same API as `django.tasks`, so moving is an import change).

Application code enqueues these and never depends on a particular backend. Every task is safe to
run twice: delivery is at-least-once on every backend, and a worker killed mid-task leaves its
task behind (database backend: RUNNING forever; RQ: failed). The mailbox lease, not the queue,
decides who syncs.
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
    """One time-budgeted slice of a mailbox's sync, under its lease (see jobs.runner)."""
    from inboxbridge.jobs.runner import run_sync

    run_sync(mailbox_id)


@task()
def push_email_flags(email_id: int) -> None:
    """Tell the server about read/flag changes made in the application."""
    from inboxbridge.sync.engine import push_flags

    push_flags(email_id)


@task()
def housekeeping() -> dict[str, int]:
    """Delete what nothing needs any more: orphan attachment blobs, old task results, old sync
    runs and heartbeats; fail database tasks whose worker died. Enqueued hourly by the scheduler."""
    from inboxbridge.jobs.housekeeping import run_housekeeping

    return run_housekeeping()
