"""Writes of the mail app."""

from __future__ import annotations

from django.db import transaction

from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Mailbox

PURGE_BATCH = 500


def purge_mailbox_mail(mailbox_id: int) -> int:
    """Delete the mail of a retired mailbox in small transactions (a big mailbox must not hold a
    write lock for minutes). Safe to run again after a crash."""
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(Email.objects.filter(mailbox_id=mailbox_id).values_list("id", flat=True)[:PURGE_BATCH])
            if not ids:
                break
            Email.objects.filter(id__in=ids).delete()
            deleted += len(ids)
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox_id, active=False).delete()
    return deleted
