"""Writes of the sending app, each in one transaction: queueing, claiming, recording outcomes, and
marking due messages as handed out. They never enqueue: the caller hands what changed to a worker
(tasks.dispatch_on_commit, tasks.save_copy_on_commit, tasks.enqueue_due_outgoing_messages).

The outbox row is the source of truth, the task queue only a wake-up call: a task that is lost
(worker killed, queue flushed, enqueue failed after the commit) costs a delay, never the message,
because `due_outgoing_messages` hands such rows out again."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from inboxbridge.events.actions import record_event
from inboxbridge.events.models import EventType
from inboxbridge.lib.redact import redact
from inboxbridge.mail.blobs import attachment_store
from inboxbridge.mail.models import Blob, Email
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import mime
from inboxbridge.sending.addresses import Address
from inboxbridge.sending.models import DraftAttachment, OutgoingMessage, SavedDraft, Signature

logger = logging.getLogger(__name__)

# Exchange Online accepts 30 messages a minute per mailbox; more are refused or delayed by it.
RATE_LIMIT = 30
RATE_WINDOW = timedelta(minutes=1)
# Transient failures wait 1, 2, 4 ... minutes, at most an hour; after this many attempts: failed.
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
# A queued message whose task should have started this long ago is handed out again.
DISPATCH_GRACE = timedelta(minutes=5)
# Sends jump the queue ahead of syncs where the backend orders by priority.
SEND_PRIORITY = 10
# The copy in Sent is saved right after the send; one still pending this long after was left
# by a stopped worker and is handed out again (a slower save than this would be saved twice).
COPY_GRACE = timedelta(minutes=10)
ERROR_MAX_CHARS = 2000
INTERRUPTED = ("The worker stopped while this message was being sent; it is sent again. If it had "
               "already gone out, recipients may get it twice (with the same Message-ID).")


@dataclass(frozen=True)
class Draft:
    mailbox: Mailbox
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    subject: str
    body: str
    sender_name: str = ""
    reply_to_email: Email | None = None
    auto_submitted: str = ""  # RFC 3834: "auto-replied" for an automatic answer; "" for a person's message
    html: str = ""  # sanitised; "" for plain text only
    inline: Sequence[mime.Part] = ()  # images the HTML shows (cid:)
    attachments: Sequence[mime.Part] = ()
    forward_of: Email | None = None
    saved_draft_id: int | None = None  # the Drafts row it was written in: gone once it is queued


@dataclass(frozen=True)
class Claim:
    message: OutgoingMessage | None = None  # claimed: send it now
    wait_until: datetime | None = None  # the mailbox's rate limit is reached: try again then


def send_lease() -> timedelta:
    """How long a claim lasts: a send is a few network round trips, each bounded by the timeout."""
    return max(timedelta(minutes=10), timedelta(seconds=10 * settings.MAIL_NETWORK_TIMEOUT))


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


def _safe(text: str) -> str:
    return redact(text)[:ERROR_MAX_CHARS]


@transaction.atomic
def queue_message(author: User, draft: Draft) -> OutgoingMessage:
    """Build the message and put it in the outbox (hand it to a worker: tasks.dispatch_on_commit).

    The files go into `mime` and nowhere else: the outbox must send the same bytes on every
    attempt, so it keeps the built message, and a second copy of each file beside it would only
    double the storage. Uploads lived in the attachment store while the message was a draft; the
    draft row goes here, and housekeeping deletes the contents no draft or received mail names."""
    now = timezone.now()
    mailbox = draft.mailbox
    message_id = mime.new_message_id(mailbox.email_address)
    parent = draft.reply_to_email
    # A reply names what it answers; a forward only continues the original's thread (References).
    original = parent if parent is not None else draft.forward_of
    in_reply_to = parent.message_id if parent is not None else ""
    references = [*original.references.split(), original.message_id] if original is not None else []
    data = mime.build_message(
        sender=(draft.sender_name, mailbox.email_address), to=draft.to, cc=draft.cc, subject=draft.subject,
        body=draft.body, message_id=message_id, when=now, in_reply_to=in_reply_to, references=references,
        auto_submitted=draft.auto_submitted, html=draft.html, inline=draft.inline, attachments=draft.attachments,
    )
    listed = [{"filename": part.filename, "content_type": part.content_type, "size": len(part.data),
               "sha256": hashlib.sha256(part.data).hexdigest()} for part in draft.attachments]
    message = OutgoingMessage.objects.create(
        mailbox=mailbox, author=author, reply_to_email=parent,
        to=[list(pair) for pair in draft.to], cc=[list(pair) for pair in draft.cc],
        bcc=[list(pair) for pair in draft.bcc], subject=draft.subject, body_text=draft.body, body_html=draft.html,
        attachments=listed, message_id=message_id, mime=data, next_attempt_at=now, task_due_at=now,
    )
    if draft.saved_draft_id is not None:
        SavedDraft.objects.filter(pk=draft.saved_draft_id, author=author).delete()
    return message


@transaction.atomic
def retry_message(message: OutgoingMessage) -> bool:
    """Put a failed message back in the queue, with a fresh count of attempts (then hand it to a
    worker: tasks.dispatch_on_commit)."""
    now = timezone.now()
    updated = OutgoingMessage.objects.filter(pk=message.pk, state=OutgoingMessage.State.FAILED).update(
        state=OutgoingMessage.State.QUEUED, attempts=0, last_error="", next_attempt_at=now, task_due_at=now,
        claimed_until=None,
    )
    return bool(updated)


def cancel_message(message: OutgoingMessage) -> bool:
    """Take a message out of the queue for good, unless a worker is sending it right now (then it
    goes out: the server may already have it). A task still on its way finds nothing to claim."""
    updated = OutgoingMessage.objects.filter(
        pk=message.pk, state__in=[OutgoingMessage.State.QUEUED, OutgoingMessage.State.FAILED]
    ).update(state=OutgoingMessage.State.CANCELLED, claimed_until=None, task_due_at=None)
    return bool(updated)


@transaction.atomic
def claim_outgoing_message(message_id: int) -> Claim:
    """Take a due, queued message for sending (queued -> sending), unless its mailbox already sent
    RATE_LIMIT messages in the last minute: then move the message to when it may go."""
    now = timezone.now()
    row = (OutgoingMessage.objects.filter(pk=message_id, state=OutgoingMessage.State.QUEUED)
           .values("mailbox_id", "next_attempt_at").first())
    if row is None or row["next_attempt_at"] > now:
        return Claim()
    # One claim per mailbox at a time (row lock; on SQLite the write lock of the IMMEDIATE
    # transaction), so two workers cannot both count 29 recent sends and make it 31.
    list(Mailbox.objects.select_for_update().filter(pk=row["mailbox_id"]).values_list("pk", flat=True))
    recent: list[datetime] = [
        when for when in OutgoingMessage.objects.filter(
            mailbox_id=row["mailbox_id"], last_attempt_at__gt=now - RATE_WINDOW
        ).order_by("-last_attempt_at").values_list("last_attempt_at", flat=True)[:RATE_LIMIT] if when is not None
    ]
    if len(recent) >= RATE_LIMIT:
        # The oldest of the last RATE_LIMIT submissions leaves the window then.
        wait_until = recent[-1] + RATE_WINDOW
        OutgoingMessage.objects.filter(pk=message_id, state=OutgoingMessage.State.QUEUED).update(
            next_attempt_at=wait_until
        )
        return Claim(wait_until=wait_until)
    claimed = OutgoingMessage.objects.filter(
        pk=message_id, state=OutgoingMessage.State.QUEUED, next_attempt_at__lte=now
    ).update(
        state=OutgoingMessage.State.SENDING, attempts=F("attempts") + 1, last_attempt_at=now,
        claimed_until=now + send_lease(), task_due_at=None,
    )
    if not claimed:
        return Claim()
    return Claim(message=OutgoingMessage.objects.select_related("mailbox").get(pk=message_id))


@transaction.atomic
def record_sent(message: OutgoingMessage) -> None:
    now = timezone.now()
    # Also from QUEUED: the claim may have run out during a slow send and the row been requeued;
    # the message did go, so it must not go again. And from CANCELLED, cancelled once requeued
    # like that: it went all the same, and the outbox says so.
    sent = OutgoingMessage.objects.filter(
        pk=message.pk,
        state__in=[OutgoingMessage.State.SENDING, OutgoingMessage.State.QUEUED, OutgoingMessage.State.CANCELLED],
    ).update(state=OutgoingMessage.State.SENT, sent_at=now, claimed_until=None, task_due_at=None, last_error="",
             copy_due_at=now + COPY_GRACE)
    message.state, message.sent_at, message.last_error = OutgoingMessage.State.SENT, now, ""
    if sent:
        record_event(EventType.OUTBOX_SENT, message.mailbox_id,
                     {**_outbox_payload(message), "sent_at": now.isoformat()})


def _outbox_payload(message: OutgoingMessage) -> dict[str, Any]:
    return {"outgoing_id": message.pk, "internet_message_id": message.message_id, "subject": message.subject[:1000],
            "to": list(message.to or [])}


@transaction.atomic
def record_failure(
    message: OutgoingMessage, error: str, *, permanent: bool, delay: timedelta | None = None
) -> datetime | None:
    """A failed attempt: back to the queue with a backoff (returns when to try again), or failed
    for good (returns None) when the error is permanent or the attempts are used up."""
    now = timezone.now()
    text = _safe(error)
    if permanent or message.attempts >= MAX_ATTEMPTS:
        if not permanent:
            text = _safe(f"Gave up after {message.attempts} attempts. {error}")
        failed = OutgoingMessage.objects.filter(pk=message.pk, state=OutgoingMessage.State.SENDING).update(
            state=OutgoingMessage.State.FAILED, last_error=text, claimed_until=None, task_due_at=None
        )
        message.state, message.last_error = OutgoingMessage.State.FAILED, text
        if failed:
            record_event(EventType.OUTBOX_FAILED, message.mailbox_id,
                         {**_outbox_payload(message), "error": text[:500]})
        return None
    retry_at = now + (delay if delay is not None else retry_delay(message.attempts))
    OutgoingMessage.objects.filter(pk=message.pk, state=OutgoingMessage.State.SENDING).update(
        state=OutgoingMessage.State.QUEUED, last_error=text, next_attempt_at=retry_at, claimed_until=None,
        task_due_at=None,
    )
    message.state, message.last_error, message.next_attempt_at = OutgoingMessage.State.QUEUED, text, retry_at
    return retry_at


@transaction.atomic
def record_sent_copy(message: OutgoingMessage, error: str = "") -> None:
    """The copy in the Sent folder: saved, or why not (the message itself went out either way)."""
    state = OutgoingMessage.CopyState.FAILED if error else OutgoingMessage.CopyState.SAVED
    OutgoingMessage.objects.filter(pk=message.pk).update(sent_copy=state, sent_copy_error=_safe(error),
                                                         copy_due_at=None)
    message.sent_copy, message.sent_copy_error = state, _safe(error)


def save_copy_again(message: OutgoingMessage) -> bool:
    """The user asks again for the copy in Sent that could not be saved (a worker saves it:
    tasks.save_copy_on_commit)."""
    updated = OutgoingMessage.objects.filter(
        pk=message.pk, state=OutgoingMessage.State.SENT, sent_copy=OutgoingMessage.CopyState.FAILED
    ).update(sent_copy=OutgoingMessage.CopyState.PENDING, sent_copy_error="", copy_due_at=timezone.now() + COPY_GRACE)
    return bool(updated)


@transaction.atomic
def due_sent_copies(*, limit: int = 100) -> list[int]:
    """For the scheduler: sent messages whose copy in Sent is still pending past its time (the
    worker stopped between sending and saving it), each handed out once per COPY_GRACE."""
    now = timezone.now()
    due = OutgoingMessage.objects.filter(
        state=OutgoingMessage.State.SENT, sent_copy=OutgoingMessage.CopyState.PENDING
    ).filter(Q(copy_due_at__isnull=True) | Q(copy_due_at__lte=now)).order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)
    ids = list(due.values_list("pk", flat=True)[:limit])
    if ids:
        OutgoingMessage.objects.filter(pk__in=ids).update(copy_due_at=now + COPY_GRACE)
    return ids


@transaction.atomic
def due_outgoing_messages(*, limit: int = 100) -> list[int]:
    """For the scheduler, every tick: the ids of queued messages that are due and have no task on
    its way, marked as handed out (tasks.enqueue_due_outgoing_messages enqueues them).

    Messages whose sending worker died (claim expired) go back to the queue first: the server may
    or may not have taken them, and at-least-once beats losing one."""
    now = timezone.now()
    stranded = OutgoingMessage.objects.filter(state=OutgoingMessage.State.SENDING, claimed_until__lt=now)
    recovered = stranded.update(
        state=OutgoingMessage.State.QUEUED, claimed_until=None, next_attempt_at=now, task_due_at=None,
        last_error=INTERRUPTED,
    )
    if recovered:
        logger.warning("%s outgoing messages were left mid-send by a stopped worker; queued again", recovered)
    due = OutgoingMessage.objects.filter(state=OutgoingMessage.State.QUEUED, next_attempt_at__lte=now).filter(
        Q(task_due_at__isnull=True) | Q(task_due_at__lte=now - DISPATCH_GRACE)
    ).order_by("next_attempt_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True)  # concurrent schedulers take different rows
    ids = list(due.values_list("pk", flat=True)[:limit])
    if ids:
        OutgoingMessage.objects.filter(pk__in=ids).update(task_due_at=now)
    return ids


# -- drafts and signatures -------------------------------------------------------------------------


def _stored_blob(data: bytes) -> Blob:
    """The content in the attachment store, once per SHA-256 (shared with received mail)."""
    digest = hashlib.sha256(data).hexdigest()
    store = attachment_store()
    if store is not None and not store.keep(digest):
        store.put(digest, data)  # durable before the row that names it commits
    blob, _ = Blob.objects.get_or_create(sha256=digest, defaults={
        "size": len(data), "data": None if store is not None else data})
    return blob


@transaction.atomic
def save_draft(author: User, saved: SavedDraft | None, fields: dict[str, Any], *,
               uploads: Sequence[mime.Part] = (), removed_uploads: Iterable[int] = ()) -> SavedDraft:
    """Create or update the author's draft with what was typed (`fields`: SavedDraft's fields),
    add the uploaded files and remove the ones unticked."""
    if saved is None:
        saved = SavedDraft(author=author)
    for name, value in fields.items():
        setattr(saved, name, value)
    saved.save()
    saved.uploads.filter(pk__in=list(removed_uploads)).delete()
    for upload in uploads:
        DraftAttachment.objects.create(draft=saved, blob=_stored_blob(upload.data), filename=upload.filename,
                                       content_type=upload.content_type, size=len(upload.data))
    return saved


@transaction.atomic
def insert_draft_image(author: User, saved: SavedDraft | None, fields: dict[str, Any],
                       image: mime.Part) -> tuple[SavedDraft, DraftAttachment]:
    """Save the draft with what was typed and add an image inserted into its text, under a new
    Content-ID (the HTML names it by that once it is sent). `image.content_type` is the checked one."""
    saved = save_draft(author, saved, fields)
    # Unique worldwide as RFC 2392 asks, and saying nothing about the writer or this server.
    content_id = f"image-{uuid.uuid4().hex}@inboxbridge"
    upload = DraftAttachment.objects.create(draft=saved, blob=_stored_blob(image.data), filename=image.filename,
                                            content_type=image.content_type, size=len(image.data),
                                            content_id=content_id)
    return saved, upload


def discard_draft(saved: SavedDraft) -> None:
    saved.delete()


def save_signature(*, text: str, user: User | None = None, mailbox: Mailbox | None = None) -> Signature:
    """The user's or the system mailbox's signature ("" leaves none)."""
    values = {"text": text.strip("\n")}
    if user is not None:
        return Signature.objects.update_or_create(user=user, defaults=values)[0]
    signature, _ = Signature.objects.update_or_create(mailbox=mailbox, defaults=values)
    return signature
