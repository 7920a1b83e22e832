"""Sending and the outbox. A send goes through the outbox like Compose (sending.actions.queue_message,
then the worker); From is any mailbox the user may send from (sending.queries.sendable_mailboxes).
With an Idempotency-Key, a retried request answers with the first one's message: never a second send."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from email.utils import formataddr
from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from ninja import Field, Query, Router, Schema, Status

from inboxbridge.api import actions, auth
from inboxbridge.api.endpoints import convert
from inboxbridge.api.problems import VALIDATION, ApiProblem, invalid, not_found, one_or_404
from inboxbridge.api.schemas import Address, ObjectId, OutboxOut, OutboxPage, SendIn, answers
from inboxbridge.mail.queries import visible_emails
from inboxbridge.mailboxes.queries import visible_mailboxes
from inboxbridge.sending import actions as sending_actions
from inboxbridge.sending import queries
from inboxbridge.sending.addresses import MAX_RECIPIENTS, parse_addresses
from inboxbridge.sending.composing import sendable_html, text_alternative
from inboxbridge.sending.mime import Part
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tasks import dispatch_on_commit

router = Router(tags=["outbox"])

# RFC 9110 token characters and a few more; what Stripe and the IETF draft accept in practice.
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_INLINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
MAX_PAGE = 100


class OutboxFilters(Schema):
    cursor: str = Field("", pattern=r"^\d{0,18}$", description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=MAX_PAGE)


def _recipients(field: str, entries: list[Address]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for n, entry in enumerate(entries):
        try:
            [pair] = parse_addresses(formataddr((entry.name, entry.address)))
        except (ValidationError, ValueError):
            raise invalid(f"{field}.{n}.address", f"“{entry.address}” is not an email address that can be "
                                                   "sent to.") from None
        found.append(pair)
    return found


def _bodies(payload: SendIn, inline: list[Part]) -> tuple[str, str]:
    """The HTML to send (sanitised; "" for plain text only) and its plain-text alternative, or a
    422 naming the field: too much HTML, a cid: without its image, an image the HTML does not show."""
    if not payload.html.strip():
        if inline:
            raise invalid("inline", "Inline images need an HTML body (`html`) that shows each with cid:<file name>.",
                          location="form")
        return "", payload.text
    if len(payload.html.encode()) > settings.HTML_MAX_BYTES:
        raise invalid("html", f"At most {filesizeformat(settings.HTML_MAX_BYTES)} of HTML "
                              "(INBOXBRIDGE_HTML_MAX_BYTES).")
    cids, asked = {part.content_id.lower() for part in inline}, set[str]()
    html = sendable_html(payload.html, cids, asked=asked)
    if missing := sorted(asked - cids):
        raise invalid("html", f"cid:{missing[0]} names no image of this message: send the image as an `inline` "
                              f"file part named {missing[0]} (POST /outbox/with-attachments).")
    for n, part in enumerate(inline):
        if part.content_id.lower() not in asked:
            raise invalid(f"inline.{n}", f"The HTML does not show {part.filename}: refer to it as "
                                         f"<img src=\"cid:{part.content_id}\">, or send it as an attachment.",
                          location="form")
    return html, payload.text or text_alternative(html)


def _inline_part(n: int, upload: Any) -> Part:
    name, kind = upload.name or "", _content_type(upload.content_type)
    if not _INLINE_NAME.fullmatch(name):
        raise invalid(f"inline.{n}", "An inline image's file name is its cid: 1 to 100 letters, digits, dots, "
                                     "dashes or underscores, starting with a letter or digit.", location="form")
    if not kind.startswith("image/"):
        raise invalid(f"inline.{n}", f"{name} is {kind}: only images are shown inline (send other files as "
                                     "`attachments`).", location="form")
    return Part(name, kind, upload.read(), content_id=name)


def _draft(request: HttpRequest, payload: SendIn, inline: list[Part] | None = None) -> sending_actions.Draft:
    mailbox = queries.sendable_mailboxes(request.user).filter(pk=payload.from_mailbox).first()
    if mailbox is None:
        if not visible_mailboxes(request.user).filter(pk=payload.from_mailbox).exists():
            raise not_found("mailbox")
        raise ApiProblem(409, "This mailbox cannot send now: it needs a reconnect, or (an Other account) has no "
                              "SMTP server. GET /mailboxes says which ones can send.")
    if any(ch in payload.subject for ch in "\r\n\0"):
        raise invalid("subject", "The subject must be a single line.")
    to, cc, bcc = (_recipients(name, getattr(payload, name)) for name in ("to", "cc", "bcc"))
    if not (to or cc or bcc):
        raise invalid("to", "Add at least one recipient.")
    if len(to) + len(cc) + len(bcc) > MAX_RECIPIENTS:
        raise invalid("to", f"At most {MAX_RECIPIENTS} recipients in all (Exchange Online's limit).")
    parent = None
    if payload.in_reply_to is not None:
        parent = one_or_404(visible_emails(request.user), payload.in_reply_to, "message to answer")
    html, text = _bodies(payload, inline or [])
    return sending_actions.Draft(mailbox=mailbox, to=to, cc=cc, bcc=bcc, subject=payload.subject, body=text,
                                 html=html, inline=inline or [], sender_name=request.user.get_full_name(),  # type: ignore[union-attr]
                                 reply_to_email=parent)


@router.post("/outbox", response=answers(409, ok_202=OutboxOut), auth=auth.SEND, summary="Send a message")
def send(request: HttpRequest, response: HttpResponse, payload: SendIn) -> Status[dict[str, Any]]:
    """Queue a message (plain text, or HTML with `html`); it is sent in a moment (GET /outbox/{id}
    for its state). Send an
    `Idempotency-Key` header (any unique string, e.g. a UUID) to make retries safe: the same key
    with the same request answers with the first message (and `Idempotent-Replayed: true`) for a
    day; with another request it is refused (422)."""
    return _queue(request, response, _draft(request, payload), hashlib.sha256(request.body).hexdigest())


# The document says what `message` holds (ninja alone would call it any string).
MULTIPART_BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["message"], "properties": {
        "message": {"$ref": "#/components/schemas/SendIn"},
        "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
        "inline": {"type": "array", "items": {"type": "string", "format": "binary"},
                   "description": "Images the HTML shows, each as cid:<its file name>."}}},
    "encoding": {"message": {"contentType": "application/json"}}}}}


@router.post("/outbox/with-attachments", response=answers(409, 413, 415, ok_202=OutboxOut), auth=auth.SEND,
             summary="Send a message with attachments", openapi_extra={"requestBody": MULTIPART_BODY})
def send_with_attachments(request: HttpRequest, response: HttpResponse) -> Status[dict[str, Any]]:
    """multipart/form-data: `message` holds the JSON of POST /outbox, each `attachments` part one
    file (its file name and content type go with it), each `inline` part an image the HTML shows
    as cid:<its file name> (a logo, a chart). The files together may come to
    INBOXBRIDGE_SEND_MAX_BYTES (413 past it). Idempotency-Key as for POST /outbox."""
    # Read here, not as ninja parameters: the document describes the parts (MULTIPART_BODY).
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise ApiProblem(415, "Send multipart/form-data: the message as JSON in `message`, each file in `attachments`.")
    message = request.POST.get("message", "")
    attachments, images = request.FILES.getlist("attachments"), request.FILES.getlist("inline")
    try:
        payload = SendIn.model_validate_json(message)
    except pydantic.ValidationError as exc:
        errors = [{"field": ".".join(["message", *(str(p) for p in e["loc"])]), "location": "form",
                   "message": e["msg"]} for e in exc.errors()]
        raise ApiProblem(422, "; ".join(f"{e['field']}: {e['message']}" for e in errors), type_=VALIDATION,
                         errors=errors) from None
    total = sum(upload.size or 0 for upload in [*attachments, *images])
    if total > settings.SEND_MAX_BYTES:
        raise ApiProblem(413, f"The files come to {filesizeformat(total)}; a message may carry at most "
                              f"{filesizeformat(settings.SEND_MAX_BYTES)} of files (mail servers refuse bigger "
                              "messages).")
    parts = [Part(upload.name or "attachment", _content_type(upload.content_type), upload.read())
             for upload in attachments]
    inline = [_inline_part(n, upload) for n, upload in enumerate(images)]
    fingerprint = hashlib.sha256(message.encode())
    for part in [*parts, *inline]:
        fingerprint.update(f"\0{part.filename}\0{part.content_type}\0{part.content_id}\0".encode()
                           + hashlib.sha256(part.data).digest())
    draft = replace(_draft(request, payload, inline), attachments=parts)
    return _queue(request, response, draft, fingerprint.hexdigest())


def _content_type(declared: str | None) -> str:
    kind = (declared or "").split(";", 1)[0].strip().lower()
    return kind if _MEDIA_TYPE.fullmatch(kind) else "application/octet-stream"


def _queue(request: HttpRequest, response: HttpResponse, draft: sending_actions.Draft,
           fingerprint: str) -> Status[dict[str, Any]]:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.fullmatch(key):
        raise invalid("Idempotency-Key", "1 to 255 visible ASCII characters.", location="header")
    if key is None:
        message = sending_actions.queue_message(request.user, draft)  # type: ignore[arg-type]
        dispatch_on_commit(message.pk)
        return Status(202, convert.outgoing(message))
    try:
        queued = actions.queue_once(request.user, draft, key=key, request_sha256=fingerprint)  # type: ignore[arg-type]
    except actions.KeyReused:
        raise ApiProblem(422, "This Idempotency-Key was used for a different request: use a new key for a new "
                              "message.", type_=VALIDATION,
                         errors=[{"field": "Idempotency-Key", "location": "header",
                                  "message": "Used before for a different request."}]) from None
    if queued.created:
        dispatch_on_commit(queued.message.pk)
    else:
        response["Idempotent-Replayed"] = "true"
    return Status(202, convert.outgoing(queued.message))


def visible_message(request: HttpRequest, message_id: ObjectId) -> OutgoingMessage:
    return one_or_404(queries.visible_outgoing(request.user), message_id, "outbox message")


@router.get("/outbox", response=answers(ok_200=OutboxPage), auth=auth.SEND, summary="The outbox")
def list_outbox(request: HttpRequest, filters: Query[OutboxFilters]) -> dict[str, Any]:
    """What the token's user sent (through the pages or the API), newest first."""
    rows = queries.visible_outgoing(request.user).order_by("-pk")
    if filters.cursor:
        rows = rows.filter(pk__lt=int(filters.cursor))
    page = list(rows[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {"items": [convert.outgoing(m) for m in page], "next_cursor": str(page[-1].pk) if more else None}


@router.get("/outbox/{id}", response=answers(ok_200=OutboxOut), auth=auth.SEND, summary="One sent message")
def get_outbox_message(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    return convert.outgoing(visible_message(request, id))


@router.post("/outbox/{id}/cancel", response=answers(409, ok_200=OutboxOut), auth=auth.SEND,
             summary="Cancel a message not sent yet")
def cancel(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    """Take a queued or failed message out of the outbox. 409 when it is being sent, sent or
    cancelled already."""
    row = visible_message(request, id)
    if not sending_actions.cancel_message(row):
        row.refresh_from_db()
        raise ApiProblem(409, f"This message cannot be cancelled: it is {row.get_state_display().lower()}.")
    row.refresh_from_db()
    return convert.outgoing(row)
