"""Every database write of the sync, each in one transaction, and the reads the plans need.

A batch of messages and the folder's new `last_uid` are committed together: a sync killed at any
moment leaves the database at a batch boundary, and the next run carries on from there without
fetching twice or losing a message.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import DataError, IntegrityError, transaction
from django.db.models import Case, F, Max, Value, When
from django.utils import timezone

from inboxbridge.events.actions import record_events
from inboxbridge.events.models import EventType
from inboxbridge.mail.actions import count_unread
from inboxbridge.mail.models import Attachment, Blob, Email, Placement, Thread
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.sync.bulk import insert_rows, raise_latest
from inboxbridge.sync.pipeline import Incoming
from inboxbridge.sync.plan import Known, LocalFolder, RemoteStatus, Rename, flags_from_imap

logger = logging.getLogger(__name__)

HASH_SUFFIX = 12  # hex digits of the content hash that tell apart two messages with one Message-ID
# A message whose rows the database refuses (a value it cannot hold): stored as a stub instead.
BAD_DATA = (DataError, IntegrityError, ValueError, TypeError)


def base_key(message_id: str) -> str:
    """The dedup key of a Message-ID; overlong ids are shortened with a hash to fit the column."""
    if len(message_id) <= 200:
        return message_id
    return message_id[:180] + "~" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:16]


def suffixed_key(message_id: str, digest: str) -> str:
    return f"{base_key(message_id)}#{digest[:HASH_SUFFIX]}"


def _safe(value: str) -> str:
    """Text any database takes: no NUL, no lone surrogates."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _text(value: str, limit: int | None = None) -> str:
    value = value.replace("\x00", "\ufffd")
    return value[:limit] if limit is not None else value


# -- reads -------------------------------------------------------------------------------------


def load_mailbox(mailbox_id: int) -> Mailbox:
    return Mailbox.objects.get(pk=mailbox_id)


def folders_of(mailbox_id: int) -> list[Folder]:
    return list(Folder.objects.filter(mailbox_id=mailbox_id))


def local_folder(folder: Folder) -> LocalFolder:
    return LocalFolder(
        folder_id=folder.pk, name=folder.name, uidvalidity=folder.uidvalidity, last_uid=folder.last_uid,
        uidnext=folder.uidnext, messages=folder.messages, highestmodseq=folder.highestmodseq,
        sync_since=folder.sync_since, last_synced_at=folder.last_synced_at,
    )


def known_messages(folder_id: int) -> dict[int, Known]:
    rows = Placement.objects.filter(folder_id=folder_id).values_list(
        "uid", "email_id", "email__is_seen", "email__is_flagged", "email__flags_pending"
    )
    return {uid: Known(email_id, seen, flagged, pending) for uid, email_id, seen, flagged, pending in rows}


# -- folder bookkeeping --------------------------------------------------------------------------


@transaction.atomic
def apply_renames(mailbox: Mailbox, renames: Iterable[Rename], display_names: Mapping[str, str]) -> None:
    """Give renamed folders their new name; their placements (and UIDs) stay valid."""
    for rename in renames:
        # A row for the new name may exist from an earlier folder listing; it holds nothing.
        Folder.objects.filter(mailbox=mailbox, name=rename.new_name, uidvalidity__isnull=True,
                              placements__isnull=True).exclude(pk=rename.folder_id).delete()
        Folder.objects.filter(pk=rename.folder_id).update(
            name=rename.new_name, display_name=display_names.get(rename.new_name, rename.new_name),
            exists_on_server=True,
        )
        logger.info("Mailbox %s: folder %r was renamed to %r", mailbox.pk, rename.old_name, rename.new_name)


@transaction.atomic
def reset_folder(folder_id: int, status: RemoteStatus) -> None:
    """UIDVALIDITY changed: the stored UIDs mean nothing any more. They are moved below zero (never
    a server UID) instead of deleted, so their Emails survive until the refetch re-links them; the
    end of a complete run deletes what was not re-linked, like any placement gone from the server."""
    lowest = Placement.objects.filter(folder_id=folder_id).aggregate(low=Max(-F("uid")))["low"] or 0
    offset = max(lowest, 0)
    Placement.objects.filter(folder_id=folder_id, uid__gt=0).update(uid=-(F("uid") + offset))
    Folder.objects.filter(pk=folder_id).update(
        uidvalidity=status.uidvalidity, last_uid=0, uidnext=None, messages=None, highestmodseq=None
    )


def apply_flag_updates(updates: Mapping[int, tuple[bool, bool]]) -> int:
    """Server flags into Emails, skipping any the user changed meanwhile (flags_pending)."""
    changed = 0
    groups: dict[tuple[bool, bool], list[int]] = {}
    for email_id, flags in updates.items():
        groups.setdefault(flags, []).append(email_id)
    with transaction.atomic():
        for (seen, flagged), ids in groups.items():
            for start in range(0, len(ids), 500):
                rows = list(Email.objects.filter(pk__in=ids[start : start + 500], flags_pending=False)
                            .exclude(is_seen=seen, is_flagged=flagged).values_list("pk", "mailbox_id"))
                if not rows:
                    continue
                changed += Email.objects.filter(pk__in=[pk for pk, _mailbox in rows]).update(
                    is_seen=seen, is_flagged=flagged
                )
                record_events(EventType.MESSAGE_UPDATED, (
                    (mailbox_id, {"email_id": pk, "is_seen": seen, "is_flagged": flagged, "by": "server"})
                    for pk, mailbox_id in rows))
    return changed


def finish_folder(folder_id: int, status: RemoteStatus, *, at: datetime) -> None:
    """Remember what STATUS said once the folder is fully synced: next time equal = skip."""
    Folder.objects.filter(pk=folder_id).update(
        uidvalidity=status.uidvalidity, uidnext=status.uidnext, messages=status.messages,
        highestmodseq=status.highestmodseq, last_synced_at=at,
    )


def remember_uidvalidity(folder_id: int, uidvalidity: int) -> None:
    Folder.objects.filter(pk=folder_id, uidvalidity__isnull=True).update(uidvalidity=uidvalidity)


def delete_placements(folder_id: int, uids: Sequence[int]) -> set[int]:
    """Drop placements of messages gone from the server; returns the Emails they pointed at."""
    affected: set[int] = set()
    with transaction.atomic():
        for start in range(0, len(uids), 500):
            chunk = uids[start : start + 500]
            placements = Placement.objects.filter(folder_id=folder_id, uid__in=chunk)
            affected.update(placements.values_list("email_id", flat=True))
            placements.delete()
    return affected


def stale_placements(folder_id: int) -> list[int]:
    """UIDs left below zero by a UIDVALIDITY reset."""
    return list(Placement.objects.filter(folder_id=folder_id, uid__lt=0).values_list("uid", flat=True))


def delete_orphans(email_ids: Iterable[int]) -> int:
    """Delete Emails (and their attachments) that no folder holds any more."""
    ids = sorted(email_ids)
    deleted = 0
    for start in range(0, len(ids), 500):
        with transaction.atomic():
            orphans = Email.objects.filter(pk__in=ids[start : start + 500], placements__isnull=True)
            gone = list(orphans.values_list("pk", "mailbox_id", "message_id"))
            deleted += orphans.delete()[1].get(Email._meta.label, 0)
            record_events(EventType.MESSAGE_DELETED, (
                (mailbox_id, {"email_id": pk, "internet_message_id": header})
                for pk, mailbox_id, header in gone))
    return deleted


# -- storing messages ----------------------------------------------------------------------------


def store_batch(mailbox_id: int, folder_id: int, items: Sequence[Incoming], last_uid: int) -> int:
    """Store messages and advance the folder's last_uid in one transaction; returns the number of
    new Emails. A message the database refuses is stored as a stub carrying the reason."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                created = _store(mailbox_id, folder_id, items)
                _advance(folder_id, last_uid)
            return created
        except IntegrityError:
            if attempt == 1:
                continue  # another sync of this mailbox stored the same mail meanwhile: look again
            break
        except BAD_DATA:
            break
    # Find the culprit: one savepoint per message.
    created = 0
    with transaction.atomic():
        for item in items:
            created += _store_one(mailbox_id, folder_id, item)
        _advance(folder_id, last_uid)
    return created


def _store_one(mailbox_id: int, folder_id: int, item: Incoming) -> int:
    failure: BaseException | None = None
    for _attempt in (1, 2):
        try:
            with transaction.atomic():
                return _store(mailbox_id, folder_id, [item])
        except BAD_DATA as exc:
            failure = exc
            if not isinstance(exc, IntegrityError):
                break
    assert failure is not None
    logger.warning("Mailbox %s: message UID %s of folder %s stored as a stub: %s",
                   mailbox_id, item.uid, folder_id, failure.__class__.__name__)
    return _store_stub(mailbox_id, folder_id, item, failure)


def _advance(folder_id: int, last_uid: int) -> None:
    Folder.objects.filter(pk=folder_id, last_uid__lt=last_uid).update(last_uid=last_uid)


def _store_stub(mailbox_id: int, folder_id: int, item: Incoming, exc: BaseException) -> int:
    folder = Folder.objects.only("uidvalidity").get(pk=folder_id)
    key = f"unstorable.{folder_id}.{folder.uidvalidity}.{item.uid}"
    seen, flagged = flags_from_imap(item.flags)
    defects = [_safe(d)[:1000] for d in item.parsed.defects[:50]]
    defects.append(f"The message could not be stored ({exc.__class__.__name__}); only this summary was kept.")
    email, created = Email.objects.get_or_create(
        mailbox_id=mailbox_id, message_key=key,
        defaults={"message_id": "", "subject": _safe(item.parsed.subject)[:1000], "received_at": item.internaldate,
                  "size": item.size, "defects": defects, "is_seen": seen, "is_flagged": flagged, "truncated": True},
    )
    Placement.objects.bulk_create([Placement(email=email, folder_id=folder_id, uid=item.uid)],
                                  ignore_conflicts=True)
    if created:
        record_events(EventType.MESSAGE_NEW, [(mailbox_id, _new_message(email.pk, folder_id, item))])
    return int(created)


def _store(mailbox_id: int, folder_id: int, items: Sequence[Incoming]) -> int:
    keys = {base_key(i.message_id) for i in items} | {suffixed_key(i.message_id, i.content_hash) for i in items}
    existing: dict[str, dict[str, Any]] = {
        row["message_key"]: dict(row)
        for row in Email.objects.filter(mailbox_id=mailbox_id, message_key__in=keys).values(
            "id", "message_key", "content_hash", "is_seen", "is_flagged", "flags_pending"
        )
    }
    # Decide per message: link to an existing Email, or create one (once per key in the batch).
    targets: list[tuple[Incoming, str]] = []
    new_by_key: dict[str, Incoming] = {}
    flag_fixes: dict[int, tuple[bool, bool]] = {}
    for item in items:
        key = base_key(item.message_id)
        found = existing.get(key)
        twin = new_by_key.get(key)  # the same key earlier in this batch
        if (found is not None and found["content_hash"] not in ("", item.content_hash)) or (
            twin is not None and twin.content_hash != item.content_hash
        ):
            key = suffixed_key(item.message_id, item.content_hash)
            found = existing.get(key)
        targets.append((item, key))
        if found is not None:
            flags = flags_from_imap(item.flags)
            if not found["flags_pending"] and (found["is_seen"], found["is_flagged"]) != flags:
                flag_fixes[found["id"]] = flags
        elif key not in new_by_key:
            new_by_key[key] = item

    emails = _create_emails(mailbox_id, new_by_key)
    ids = {key: row["id"] for key, row in existing.items()}
    ids.update(emails)
    insert_rows(Placement, ("email", "folder", "uid"), [(ids[key], folder_id, item.uid) for item, key in targets],
                skip_conflicts_on=("folder", "uid"))
    _create_attachments(new_by_key, emails)
    # In this transaction: the events exist exactly when the messages do (the webhooks' outbox).
    record_events(EventType.MESSAGE_NEW, [(mailbox_id, _new_message(emails[key], folder_id, item))
                                          for key, item in new_by_key.items()])
    if flag_fixes:
        apply_flag_updates(flag_fixes)
    return len(emails)


def _new_message(email_id: int, folder_id: int, item: Incoming) -> dict[str, Any]:
    """The payload of a message.new event: enough to decide whether to fetch the message."""
    p = item.parsed
    received = item.internaldate or p.date
    return {
        "email_id": email_id, "folder_id": folder_id, "uid": item.uid, "internet_message_id": _safe(p.message_id),
        "subject": _safe(p.subject)[:1000], "from": _safe(p.sender.address)[:320] if p.sender else "",
        "received_at": received.isoformat() if received else None,
    }


EMAIL_COLUMNS = (
    "mailbox", "message_key", "message_id", "content_hash", "thread", "in_reply_to", "references", "subject",
    "from_name", "from_address", "to", "cc", "bcc", "reply_to", "sent_at", "received_at", "body_text",
    "body_html", "headers", "size", "has_attachments", "truncated", "defects", "is_seen", "is_flagged",
    "flags_pending", "created_at",
)


def _create_emails(mailbox_id: int, new_by_key: Mapping[str, Incoming]) -> dict[str, int]:
    """Insert the new Emails; returns their ids by message_key."""
    if not new_by_key:
        return {}
    threads = _assign_threads(mailbox_id, new_by_key)
    now = timezone.now()
    rows = []
    for key, item in new_by_key.items():
        p = item.parsed
        seen, flagged = flags_from_imap(item.flags)
        to, cc, bcc, reply_to, headers, defects = item.json_fields
        rows.append((
            mailbox_id, key, _text(p.message_id), item.content_hash, threads[key], _text(p.in_reply_to),
            _text(" ".join(p.references)), _text(p.subject), _text(p.sender.name, 500) if p.sender else "",
            _text(p.sender.address, 320) if p.sender else "", to, cc, bcc, reply_to, p.date,
            item.internaldate or p.date, _text(p.text), _text(p.html), headers, item.size,
            any(not a.inline for a in p.attachments), p.truncated or any(a.omitted for a in p.attachments),
            defects, seen, flagged, False, now,
        ))
    insert_rows(Email, EMAIL_COLUMNS, rows, rows_per_statement=len(rows))
    return dict(
        Email.objects.filter(mailbox_id=mailbox_id, message_key__in=list(new_by_key)).values_list("message_key", "id")
    )


def _assign_threads(mailbox_id: int, new_by_key: Mapping[str, Incoming]) -> dict[str, int]:
    """A new message joins the thread of the nearest message it refers to, else starts one."""
    wanted = {base_key(ref) for item in new_by_key.values() for ref in _parents(item)}
    known: dict[str, int] = dict(
        Email.objects.filter(mailbox_id=mailbox_id, message_key__in=wanted, thread__isnull=False)
        .values_list("message_key", "thread_id")
    ) if wanted else {}
    chosen: dict[str, int | Thread] = {}
    in_batch: dict[str, int | Thread] = {}
    for key, item in new_by_key.items():
        thread: int | Thread | None = None
        for ref in _parents(item):
            ref_key = base_key(ref)
            thread = in_batch.get(ref_key) or known.get(ref_key)
            if thread is not None:
                break
        if thread is None:
            thread = Thread(mailbox_id=mailbox_id, subject=_text(item.parsed.subject))
        chosen[key] = in_batch[base_key(item.message_id)] = thread
    new_threads = {id(t): t for t in chosen.values() if isinstance(t, Thread)}
    latest: dict[int, datetime] = {}  # id(thread object) or thread pk -> newest message date
    for key, thread in chosen.items():
        when = new_by_key[key].parsed.date or new_by_key[key].internaldate
        slot = id(thread) if isinstance(thread, Thread) else thread
        if when is not None and (slot not in latest or when > latest[slot]):
            latest[slot] = when
    for slot, thread_object in new_threads.items():
        thread_object.last_message_at = latest.get(slot)
    Thread.objects.bulk_create(list(new_threads.values()))
    raise_latest(Thread, "last_message_at", {slot: when for slot, when in latest.items() if slot not in new_threads})
    return {key: thread.pk if isinstance(thread, Thread) else thread for key, thread in chosen.items()}


def _parents(item: Incoming) -> list[str]:
    """Referenced Message-IDs, nearest first (In-Reply-To, then References from the end)."""
    refs = [item.parsed.in_reply_to] if item.parsed.in_reply_to else []
    refs.extend(reversed(item.parsed.references))
    return [ref for ref in refs if ref and ref != item.message_id]


def _create_attachments(new_by_key: Mapping[str, Incoming], emails: Mapping[str, int]) -> None:
    blobs: dict[str, tuple[str, int, bytes | None]] = {}
    rows: list[tuple[Any, ...]] = []
    for key, item in new_by_key.items():
        for position, part in enumerate(item.parsed.attachments):
            # data None: omitted, or (contents_in_files) already written to the attachment files
            stored = not part.omitted and (part.data is not None or item.contents_in_files)
            if stored and part.sha256 not in blobs:
                blobs[part.sha256] = (part.sha256, part.size, part.data)
            rows.append((
                emails[key], _text(part.filename, 500), _text(part.content_type, 200), part.size,
                _text(part.content_id, 500), part.inline, not stored, part.sha256 if stored else None, position,
            ))
    if blobs:
        present = set(Blob.objects.filter(sha256__in=list(blobs)).values_list("sha256", flat=True))
        # One row per statement: a multi-row INSERT would make the driver copy every attachment
        # of the batch at once.
        insert_rows(Blob, ("sha256", "size", "data"), [b for sha, b in blobs.items() if sha not in present],
                    skip_conflicts_on=("sha256",))
    if rows:
        insert_rows(Attachment, ("email", "filename", "content_type", "size", "content_id", "inline", "omitted",
                                 "blob", "position"), rows)


# -- the mailbox's status ------------------------------------------------------------------------


def mark_started(mailbox_id: int) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(state=Mailbox.State.SYNCING, last_sync_at=timezone.now())


def mark_finished(mailbox_id: int, *, backlog: int | None, error: str = "", changed: bool = False) -> None:
    """Record the outcome; a mailbox waiting for Reconnect stays Disabled. backlog None = unknown
    (the run failed before it could plan): the last known figure stays. `changed`: the run
    stored, deleted or re-flagged mail, so the folders' unread counts are counted again."""
    if changed:
        count_unread(mailbox_id)
    fields: dict[str, Any] = {"message_count": Email.objects.filter(mailbox_id=mailbox_id).count(),
                              "last_error": error[:2000]}
    if backlog is not None:
        fields["backlog"] = backlog
    if error:
        fields["state"] = Case(When(needs_reconnect=True, then=Value(Mailbox.State.DISABLED)),
                               default=Value(Mailbox.State.ERROR))
    else:
        fields.update(state=Mailbox.State.IDLE, last_success_at=timezone.now())
    Mailbox.objects.filter(pk=mailbox_id).update(**fields)
