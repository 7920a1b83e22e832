"""Background work, declared with Django's Tasks API (the `django_tasks` backport on Django 5.2;
Django 6 ships the same API as `django.tasks`, so moving is an import change).

Each app declares its own tasks in its tasks.py (mail: the flag push; mailboxes: the purge of a
disconnected mailbox; sending: the outbox); these are the sync and housekeeping. Entry points
(views, commands, the scheduler, other tasks) enqueue them, never actions, and application code
never depends on a particular backend. Every task is safe to run twice: delivery is at-least-once
on every backend, and a worker killed mid-task leaves its task behind (database backend: RUNNING
forever; RQ: failed). The mailbox lease, not the queue, decides who syncs.
"""

from __future__ import annotations

import logging

from django_tasks import task

from inboxbridge.jobs.housekeeping import run_housekeeping
from inboxbridge.jobs.runner import run_sync

# Tasks queued before they moved to their apps are found under their old names (a queued task is
# stored as the import path of its function).
from inboxbridge.mail.tasks import push_email_flags as push_email_flags
from inboxbridge.mailboxes.tasks import purge_mailbox as purge_mailbox

logger = logging.getLogger(__name__)


@task()
def sync_mailbox(mailbox_id: int) -> None:
    """One time-budgeted slice of a mailbox's sync, under its lease (see jobs.runner)."""
    run_sync(mailbox_id)


@task()
def housekeeping() -> dict[str, int]:
    """Delete what nothing needs any more: orphan attachment blobs, old task results, old sync
    runs and heartbeats; fail database tasks whose worker died. Enqueued hourly by the scheduler."""
    return run_housekeeping()
