"""Messages, threads and attachments: the list and search of My Emails (mail.queries.email_page,
the same filters and full-text search), one message, its original RFC 822 bytes, read and flagged."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field as NinjaField
from ninja import Query, Router, Schema

from inboxbridge.api import auth
from inboxbridge.api.endpoints import convert
from inboxbridge.api.endpoints.mailboxes import visible_mailbox
from inboxbridge.api.problems import ApiProblem, invalid, one_or_404
from inboxbridge.api.schemas import FlagsIn, MessageOut, MessagePage, MessageSummary, ObjectId, ThreadOut, answers
from inboxbridge.mail import actions, downloads, queries
from inboxbridge.mail.models import Email
from inboxbridge.mail.original import OriginalUnavailable, original_bytes
from inboxbridge.mail.search import MAX_QUERY_CHARS
from inboxbridge.mail.tasks import push_flags_on_commit

router = Router(tags=["messages"])

MAX_PAGE = 100
BINARY = {"schema": {"type": "string", "format": "binary"}}


class MessageFilters(Schema):
    mailbox: int | None = NinjaField(None, ge=1, le=2**62, description="Only this mailbox.")
    folder: int | None = NinjaField(None, ge=1, le=2**62, description="Only this folder (implies its mailbox).")
    q: str = NinjaField("", max_length=MAX_QUERY_CHARS, description="Words in the subject, sender or text, as "
                                                                     "the search box of My Emails.")
    unread: bool = False
    flagged: bool = False
    cursor: str = NinjaField("", pattern=r"^((x|-?\d{1,17})_\d{1,18})?$",
                             description="next_cursor of the previous page.")
    limit: int = NinjaField(queries.PAGE_SIZE, ge=1, le=MAX_PAGE)


def visible_email(request: HttpRequest, email_id: int) -> Email:
    return one_or_404(queries.visible_emails(request.user), email_id, "message")


@router.get("/messages", response=answers(ok_200=MessagePage), auth=auth.READ, summary="List and search messages")
def list_messages(request: HttpRequest, filters: Query[MessageFilters]) -> dict[str, Any]:
    """Newest first, in pages: pass `next_cursor` as `cursor` for the next one (keyset pagination:
    page 500 costs what page 1 does)."""
    folder = None
    if filters.folder is not None:
        folder = one_or_404(queries.visible_folders(request.user).select_related("mailbox"), filters.folder, "folder")
    mailbox = visible_mailbox(request, filters.mailbox) if filters.mailbox is not None else None
    if folder is not None and mailbox is not None and folder.mailbox_id != mailbox.pk:
        raise invalid("folder", "This folder is not in the chosen mailbox.", location="query")
    before = None
    if filters.cursor:
        before = queries.Position.decode(filters.cursor)
        if before is None:
            raise invalid("cursor", "Not a cursor this API gave: pass next_cursor as it came.", location="query")
    chosen = queries.MailFilter(folder=folder, mailbox=folder.mailbox if folder is not None else mailbox,
                                unread=filters.unread, flagged=filters.flagged, query=filters.q)
    page = queries.email_page(request.user, chosen, before=before, size=filters.limit)
    return {"items": [convert.summary(e) for e in page.emails],
            "next_cursor": page.older.encode() if page.older is not None else None}


@router.get("/messages/{id}", response=answers(ok_200=MessageOut), auth=auth.READ, summary="One message")
def get_message(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    """Reading through the API does not mark the message read: PATCH it when your user has."""
    return convert.message(visible_email(request, id))


@router.get("/messages/{id}/raw", response=answers(502, ok_200=None), auth=auth.READ,
            summary="The message as RFC 822 bytes", openapi_extra={"responses": {200: {
                "description": "message/rfc822", "content": {"message/rfc822": BINARY}}}})
def get_raw_message(request: HttpRequest, id: ObjectId) -> HttpResponseBase:
    """The message byte for byte as its mail server keeps it (signatures such as DKIM still verify),
    fetched read-only at the time of the request: it is not marked read. 404 also when the server
    no longer has it (deleted or moved since the last sync); 502 when the server cannot give it now
    (unreachable, the mailbox needs a reconnect, over the size limit of one message)."""
    row = visible_email(request, id)
    try:
        raw = original_bytes(row)
    except OriginalUnavailable as exc:
        raise ApiProblem(404 if exc.gone else 502, exc.message) from None
    return downloads.original_response(raw, row)


@router.patch("/messages/{id}", response=answers(ok_200=MessageSummary), auth=auth.READ,
              summary="Set read or flagged")
def set_flags(request: HttpRequest, id: ObjectId, payload: FlagsIn) -> dict[str, Any]:
    """Set `seen` and/or `flagged`; the change is pushed to the mail server as a reader's click is."""
    row = visible_email(request, id)
    if payload.seen is None and payload.flagged is None:
        raise invalid("seen", "Send seen, flagged or both.")
    if payload.seen is not None:
        push_flags_on_commit(actions.mark_seen([row.pk], payload.seen))
        row.is_seen = payload.seen
    if payload.flagged is not None:
        push_flags_on_commit(actions.mark_flagged([row.pk], payload.flagged))
        row.is_flagged = payload.flagged
    return convert.summary(row)


@router.get("/attachments/{id}", response=answers(ok_200=None), auth=auth.READ, url_name="attachment",
            summary="An attachment's content", openapi_extra={"responses": {200: {
                "description": "The content; its type when it is a safe one, else application/octet-stream.",
                "content": {"*/*": BINARY}}}})
def get_attachment(request: HttpRequest, id: ObjectId) -> HttpResponseBase:
    stored = queries.visible_attachments(request.user).select_related("blob").filter(blob__isnull=False)
    part = one_or_404(stored, id, "attachment")
    return downloads.attachment_response(part)


@router.get("/threads/{id}", response=answers(ok_200=ThreadOut), auth=auth.READ, summary="A conversation")
def get_thread(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    return convert.thread(one_or_404(queries.visible_threads(request.user), id, "thread"))
