"""What the API's JSON looks like (pydantic models through django-ninja): the OpenAPI document is
generated from these, and every answer is checked against them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from annotated_types import Ge, Le
from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, Strict
from pydantic.config import JsonDict

from inboxbridge.api.problems import Problem

# Every operation may answer these (the token check and the lookups); listed in the OpenAPI document.
REFUSALS: dict[int, type[Problem]] = dict.fromkeys((400, 401, 403, 404, 422, 429), Problem)


def answers(*also: int, **ok: object) -> dict[int, object]:
    """The responses of an operation: its own (`ok_200=Schema`), every refusal, and the problems
    `also` names (409: a conflict with the object's state)."""
    return {**{int(code.removeprefix("ok_")): schema for code, schema in ok.items()}, **REFUSALS,
            **dict.fromkeys(also, Problem)}


class Address(Schema):
    model_config = ConfigDict(strict=True)

    name: str = Field("", max_length=500)
    address: str = Field(..., max_length=320, json_schema_extra={"format": "email"})


class SyncState(Schema):
    state: str = Field(..., description="syncing, idle, error, disabled or waiting")
    label: str
    reason: str
    last_sync_at: datetime | None
    last_success_at: datetime | None
    message_count: int
    backlog: int


class MailboxOut(Schema):
    id: int
    email_address: str
    label: str
    account_type: str
    system: bool = Field(..., description="A system mailbox (shared by the people authorized for it).")
    active: bool
    can_send: bool
    sync: SyncState


class FolderOut(Schema):
    id: int
    mailbox_id: int
    name: str
    display_name: str
    special_use: str
    selected: bool = Field(..., description="Chosen for synchronisation.")
    unread_count: int
    last_synced_at: datetime | None


class MessageSummary(Schema):
    id: int
    mailbox_id: int
    thread_id: int | None
    subject: str
    sender: Address = Field(..., description="The From address.")
    received_at: datetime | None
    is_seen: bool
    is_flagged: bool
    has_attachments: bool
    preview: str


class MessagePage(Schema):
    items: list[MessageSummary]
    next_cursor: str | None = Field(..., description="Pass as `cursor` for the next (older) page; null: the last.")


class Header(Schema):
    name: str
    value: str


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str
    available: bool = Field(..., description="False: over the size limit, listed but not stored.")


class MessageOut(MessageSummary):
    # Not `message_id`: next to the ids of this API, the Message-ID header would read as one of them.
    internet_message_id: str = Field(..., description="The Message-ID header, without angle brackets.")
    in_reply_to: str
    references: str
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    reply_to: list[Address]
    sent_at: datetime | None
    text: str
    html: str = Field(..., description="Sanitised as on the pages; inline images point to their attachment URL, "
                                       "remote images are left out.")
    html_cut: bool
    truncated: bool = Field(..., description="A part over the size limit was not stored.")
    headers: list[Header]
    attachments: list[AttachmentOut]
    folder_ids: list[int]


class FlagsIn(Schema):
    """Either or both; a field left out stays as it is."""

    model_config = ConfigDict(strict=True, json_schema_extra={"minProperties": 1})

    seen: bool = Field(None, validate_default=False)  # type: ignore[assignment]
    flagged: bool = Field(None, validate_default=False)  # type: ignore[assignment]


class ThreadOut(Schema):
    id: int
    mailbox_id: int
    subject: str
    last_message_at: datetime | None
    messages: list[MessageSummary]


# At least one recipient, in To, Cc or Bcc.
_SOME_RECIPIENT: JsonDict = {"anyOf": [{"required": [name], "properties": {name: {"type": "array", "minItems": 1}}}
                             for name in ("to", "cc", "bcc")]}


def _integral(value: object) -> object:
    """JSON has one number type: 7.0 is the integer 7 (JSON Schema agrees); strings stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# A number in a JSON body: strictly a number (no "7"), 7.0 allowed.
BodyId = Annotated[int, BeforeValidator(_integral), Strict()]


class SendIn(Schema):
    model_config = ConfigDict(json_schema_extra=_SOME_RECIPIENT)

    from_mailbox: BodyId = Field(..., ge=1, le=2**62, description="A mailbox id from GET /mailboxes with can_send.")
    to: list[Address] = Field(default_factory=list, max_length=500)
    cc: list[Address] = Field(default_factory=list, max_length=500)
    bcc: list[Address] = Field(default_factory=list, max_length=500)
    # The pattern is for the document; the endpoint refuses a line break with its own words.
    subject: str = Field("", max_length=900, description="One line.",
                         json_schema_extra={"pattern": r"^[^\r\n\x00]*$"})
    text: str = Field("", max_length=1_000_000, strict=True,
                      description="The plain text. With `html`, its plain-text alternative (made from the HTML "
                                  "when left empty).")
    html: str = Field("", max_length=4_000_000, strict=True,
                      description="An HTML body (optional), sanitised before it is sent as Compose's is: scripts, "
                                  "forms and event handlers removed, remote images kept. Images sent as `inline` "
                                  "parts (POST /outbox/with-attachments) are shown with cid:<their file name>.")
    in_reply_to: BodyId = Field(None, ge=1, le=2**62, validate_default=False,  # type: ignore[assignment]
                                description="The id of a message this one answers.")


class OutboxOut(Schema):
    id: int
    mailbox_id: int
    state: str = Field(..., description="queued, sending, sent, failed or cancelled")
    subject: str
    to: list[Address]
    cc: list[Address]
    bcc: list[Address]
    internet_message_id: str = Field(..., description="The Message-ID header it is sent with, without angle "
                                                      "brackets.")
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    can_cancel: bool


class OutboxPage(Schema):
    items: list[OutboxOut]
    next_cursor: str | None


class Accepted(Schema):
    detail: str


# An id in a path: a positive bigint (larger numbers are no row, and databases refuse them).
ObjectId = Annotated[int, Ge(1), Le(2**62)]


# -- connect links (endpoints/connect_links.py) ----------------------------------------------------

# What a redirect_url must look like: http(s), a host name or IPv4 address in ASCII (an RFC 3986
# reg-name: no user:password, no IPv6 literal, punycode for other scripts), an optional port, then
# no spaces or control characters.
REDIRECT_URL_PATTERN = r"^https?://[A-Za-z0-9._~!$&'()*+,;=%-]+(:[0-9]{1,5})?([/?#][^\x00-\x20\x7f-\x9f]*)?$"


class ConnectLinkIn(Schema):
    # A JSON object of these fields only: a misspelt field is refused rather than ignored (and ninja's
    # Schema would otherwise read a list's missing attributes as the defaults and accept it).
    model_config = ConfigDict(strict=True, extra="forbid")

    redirect_url: str = Field(
        "", max_length=2000, json_schema_extra={"pattern": REDIRECT_URL_PATTERN},
        description="Where the browser goes afterwards: an absolute http(s) URL without user:password. Its query "
                    "gets status=connected&mailbox=<id>, or status=error&error=<code>&error_description=<text>. "
                    "Left out: inboxbridge shows the outcome on its own page.")
    mailbox: BodyId = Field(None, ge=1, le=2**62, validate_default=False,  # type: ignore[assignment]
                            description="Reconnect this one of the token's user's own Office 365 mailboxes.")
    login_hint: str = Field("", max_length=320, json_schema_extra={"format": "email"},
                            description="The address Microsoft's sign-in page starts with.")


class ConnectLinkOut(Schema):
    url: str = Field(..., description="Send the person's browser here. It works once, until expires_at.")
    expires_at: datetime


class FolderChoiceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    sync: list[BodyId] = Field(..., max_length=2000, description="The ids of the folders to synchronise "
                                                                 "(GET /mailboxes/{id}/folders); the others stop.")
    sync_from: date | None = Field(None, description="Only mail received from this day on, for folders not "
                                                     "synchronised yet (a folder already synchronised keeps its "
                                                     "mail); null or left out: all mail.")
