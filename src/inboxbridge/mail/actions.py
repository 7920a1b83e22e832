"""Writes of the mail app: one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Greatest

from inboxbridge.jobs.tasks import push_email_flags
from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.models import Folder, Mailbox

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
            if field == "is_seen":
                _shift_unread_counts(changed, -1 if value else 1)
            for email_id in changed:
                # After commit: a worker must find the new state, and a rolled-back click pushes nothing.
                transaction.on_commit(partial(push_email_flags.enqueue, email_id))
    return changed


def _shift_unread_counts(email_ids: list[int], step: int) -> None:
    per_folder = Placement.objects.filter(email_id__in=email_ids).values_list("folder_id").annotate(n=Count("id"))
    for folder_id, n in per_folder:
        # Never below zero: a count a concurrent sync recounted may already include this click.
        Folder.objects.filter(pk=folder_id).update(unread_count=Greatest(F("unread_count") + step * n, 0))


def count_unread(mailbox_id: int) -> None:
    """Count each folder's unread emails again (after a sync run that changed mail)."""
    # Driven from the mailbox's unread emails (its index on mailbox and is_seen), usually a small
    # part of its mail, rather than from every placement of every folder.
    unread = Email.objects.filter(mailbox_id=mailbox_id, is_seen=False).values("id")
    counts = dict(
        Placement.objects.filter(email__in=unread).values_list("folder_id").annotate(n=Count("id"))
        .values_list("folder_id", "n")
    )
    with transaction.atomic():
        for folder_id, stored in Folder.objects.filter(mailbox_id=mailbox_id).values_list("pk", "unread_count"):
            if counts.get(folder_id, 0) != stored:
                Folder.objects.filter(pk=folder_id).update(unread_count=counts.get(folder_id, 0))


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
