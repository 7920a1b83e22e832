"""Writes of the mail app: one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction

from inboxbridge.jobs.tasks import push_email_flags
from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Mailbox

PURGE_BATCH = 500


def mark_seen(email_ids: Iterable[int], seen: bool) -> list[int]:
    """Set the read state of these emails (already checked as visible to the user) and have it pushed
    to the server. Returns the ids that changed."""
    return _set_flag(email_ids, "is_seen", seen)


def mark_flagged(email_ids: Iterable[int], flagged: bool) -> list[int]:
    """Flag or unflag these emails (already checked as visible to the user) and have it pushed to
    the server. Returns the ids that changed."""
    return _set_flag(email_ids, "is_flagged", flagged)


def _set_flag(email_ids: Iterable[int], field: str, value: bool) -> list[int]:
    # flags_pending tells the sync to keep our state until the push has happened, so a sync
    # running meanwhile does not undo the reader's click.
    with transaction.atomic():
        changed = list(
            Email.objects.select_for_update()
            .filter(id__in=list(email_ids))
            .exclude(**{field: value})
            .values_list("id", flat=True)
        )
        if changed:
            Email.objects.filter(id__in=changed).update(**{field: value, "flags_pending": True})
            for email_id in changed:
                # After commit: a worker must find the new state, and a rolled-back click pushes nothing.
                transaction.on_commit(partial(push_email_flags.enqueue, email_id))
    return changed


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
