"""Writes of the mail app: one transaction each. They return what changed; the caller enqueues
what follows (tasks.push_flags_on_commit for a changed read or flagged state)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Greatest

from inboxbridge.events.actions import record_events
from inboxbridge.events.models import EventType
from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.models import Folder


def mark_seen(email_ids: Iterable[int], seen: bool) -> list[int]:
    """Set the read state of these emails (already checked as visible to the user), to be pushed to
    the server. Returns the ids that changed (push them: tasks.push_flags_on_commit)."""
    return _set_flag(email_ids, "is_seen", seen)


def mark_flagged(email_ids: Iterable[int], flagged: bool) -> list[int]:
    """Flag or unflag these emails (already checked as visible to the user), to be pushed to the
    server. Returns the ids that changed (push them: tasks.push_flags_on_commit)."""
    return _set_flag(email_ids, "is_flagged", flagged)


def _set_flag(email_ids: Iterable[int], field: str, value: bool) -> list[int]:
    # flags_pending tells the sync to keep our state until the push has happened, so a sync
    # running meanwhile does not undo the reader's click.
    with transaction.atomic():
        rows = list(
            Email.objects.select_for_update()
            .filter(id__in=list(email_ids))
            .exclude(**{field: value})
            .values_list("id", "mailbox_id", "is_seen", "is_flagged")
        )
        changed = [pk for pk, *_rest in rows]
        if changed:
            Email.objects.filter(id__in=changed).update(**{field: value, "flags_pending": True})
            if field == "is_seen":
                _shift_unread_counts(changed, -1 if value else 1)
            record_events(EventType.MESSAGE_UPDATED, (
                (mailbox_id, {"email_id": pk, "is_seen": value if field == "is_seen" else seen,
                              "is_flagged": value if field == "is_flagged" else flagged, "by": "user"})
                for pk, mailbox_id, seen, flagged in rows))
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
