"""Which mailboxes are due, and claiming them so that exactly one sync runs per mailbox."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inboxbridge.mailboxes.models import Mailbox


def request_sync(mailbox: Mailbox) -> None:
    """"Sync now": make the mailbox due at once and enqueue its sync."""
    from inboxbridge.jobs.tasks import sync_mailbox

    Mailbox.objects.filter(pk=mailbox.pk).update(next_sync_at=timezone.now())
    transaction.on_commit(lambda: sync_mailbox.enqueue(mailbox.pk))
