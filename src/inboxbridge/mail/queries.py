"""Reads of the mail app. Every query for a user starts from `visible_mailboxes`
(inboxbridge.mailboxes.queries): the one place that decides whose mail a user may read."""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr

from inboxbridge.lib.html import has_remote_content
from inboxbridge.mail import search
from inboxbridge.mail.models import Attachment, Email, Placement, Thread
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailboxes.queries import AnyUser as User
from inboxbridge.mailboxes.queries import visible_mailboxes

PAGE_SIZE = 50
# Up to this many messages, a folder's list is read by primary key and sorted (cost: the folder's
# size); above it, by walking the mailbox's date index (cost: page size / the folder's share).
SMALL_FOLDER = 5000
PREVIEW_CHARS = 140
LIST_FIELDS = (
    "id", "mailbox_id", "thread_id", "subject", "from_name", "from_address", "received_at", "is_seen",
    "is_flagged", "has_attachments",
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def visible_emails(user: User) -> QuerySet[Email]:
    return Email.objects.filter(mailbox__in=visible_mailboxes(user))


def visible_threads(user: User) -> QuerySet[Thread]:
    return Thread.objects.filter(mailbox__in=visible_mailboxes(user))


def visible_folders(user: User) -> QuerySet[Folder]:
    return Folder.objects.filter(mailbox__in=visible_mailboxes(user))


def visible_attachments(user: User) -> QuerySet[Attachment]:
    return Attachment.objects.filter(email__mailbox__in=visible_mailboxes(user))


def folder_list(user: User, mailbox: Mailbox | None = None) -> list[Folder]:
    """Folders to offer as filters: those synchronised or still holding mail, the inbox first (of
    one mailbox when the switcher chose one)."""
    has_mail = Exists(Placement.objects.filter(folder_id=OuterRef("pk")))
    folders = visible_folders(user).filter(Q(selected=True) | has_mail)
    if mailbox is not None:
        folders = folders.filter(mailbox=mailbox)
    return sorted(folders, key=lambda f: (f.special_use.lower() != "\\inbox" and f.name.upper() != "INBOX", f.name))


def unread_count(user: User, mailbox: Mailbox | None = None) -> int:
    emails = visible_emails(user) if mailbox is None else visible_emails(user).filter(mailbox=mailbox)
    return emails.filter(is_seen=False).count()


def mailbox_switcher(user: User) -> list[Mailbox]:
    """The mailboxes My Emails offers to switch between, each with `unread` set: the user's own
    first, then the system mailboxes by label."""
    mailboxes = list(visible_mailboxes(user).order_by(F("owner_id").asc(nulls_last=True), "label", "email_address",
                                                      "id"))
    # Counted apart, from the unread rows only (the (mailbox, is_seen) index): an annotation on
    # the mailboxes joined every email of each and took most of a My Emails page at 100,000 emails.
    unread = dict(Email.objects.filter(mailbox_id__in=[m.pk for m in mailboxes], is_seen=False)
                  .values("mailbox_id").annotate(n=Count("pk")).values_list("mailbox_id", "n").order_by())
    for mailbox in mailboxes:
        mailbox.unread = unread.get(mailbox.pk, 0)  # type: ignore[attr-defined]
    return mailboxes


def inline_part(user: User, email_id: int, part_id: int) -> Attachment | None:
    """A stored part with a Content-ID of a visible email (the target of its HTML's cid: URLs)."""
    parts = visible_attachments(user).filter(email_id=email_id, pk=part_id, blob__isnull=False).exclude(content_id="")
    return parts.select_related("blob").first()


def thread_messages(thread: Thread) -> list[Email]:
    """The messages of a (visible) thread, oldest first; only its own mailbox's, whatever links to it."""
    emails = thread.emails.filter(mailbox_id=thread.mailbox_id)
    return list(emails.order_by(F("sent_at").asc(nulls_first=True), F("received_at").asc(nulls_first=True), "id"))


def with_thread_sizes(emails: list[Email]) -> list[Email]:
    """Set `thread_size` on each email of a page (one query for the page)."""
    ids = {e.thread_id for e in emails if e.thread_id}
    rows = Email.objects.filter(thread_id__in=ids).values("thread_id").annotate(n=Count("id")) if ids else []
    sizes = {row["thread_id"]: row["n"] for row in rows}
    for email in emails:
        email.thread_size = sizes.get(email.thread_id, 1)  # type: ignore[attr-defined]
    return emails


# -- the list: filters and keyset pagination -----------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a page starts or ends: (received_at, id) of a row. Emails without a date sort after all
    dated ones, by id. Encoded into the URL as `<microseconds since 1970>_<id>` or `x_<id>`."""

    received_at: datetime | None
    id: int

    @classmethod
    def of(cls, email: Email) -> Position:
        return cls(email.received_at, email.id)

    def encode(self) -> str:
        micros = "x" if self.received_at is None else str((self.received_at - _EPOCH) // _MICROSECOND)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, token: str) -> Position | None:
        # Ids fit a bigint; dates a datetime (else OverflowError): garbage is ignored, never a 500.
        match = re.fullmatch(r"(x|-?\d{1,17})_(\d{1,18})", token or "")
        if not match:
            return None
        try:
            when = None if match[1] == "x" else _EPOCH + int(match[1]) * _MICROSECOND
        except OverflowError:
            return None
        return cls(when, int(match[2]))

    @property
    def segment(self) -> int:
        return 0 if self.received_at is not None else 1


@dataclass(frozen=True)
class MailFilter:
    folder: Folder | None = None
    mailbox: Mailbox | None = None  # one of the visible mailboxes; None: all of them
    unread: bool = False
    flagged: bool = False
    query: str = ""


@dataclass
class Page:
    emails: list[Email]
    older: Position | None  # pass as `before` for the next page, when there is one
    newer: Position | None  # pass as `after` for the previous page, when there is one


def email_page(
    user: User, filters: MailFilter, *, before: Position | None = None, after: Position | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the list, newest first. Keyset pagination: each page is an index range scan
    starting at the previous page's last row, as fast on page 500 as on page 1."""
    if after is not None:
        rows = _fetch(user, filters, after, forward=False, limit=size + 1)
        if len(rows) <= size:
            # Back at the top: show a full first page rather than a short one.
            return email_page(user, filters, size=size)
        shown = rows[:size][::-1]
        return Page(shown, older=Position.of(shown[-1]), newer=Position.of(shown[0]))
    rows = _fetch(user, filters, before, forward=True, limit=size + 1)
    shown = rows[:size]
    return Page(
        shown,
        older=Position.of(shown[-1]) if len(rows) > size else None,
        newer=Position.of(shown[0]) if before is not None and shown else None,
    )


def _fetch(user: User, filters: MailFilter, bound: Position | None, *, forward: bool, limit: int) -> list[Email]:
    if filters.folder is not None:
        mailbox_ids = [filters.folder.mailbox_id]
    elif filters.mailbox is not None:
        mailbox_ids = [filters.mailbox.pk]
    else:
        mailbox_ids = list(visible_mailboxes(user).values_list("id", flat=True))
    in_folder = _in_folder(filters.folder) if filters.folder is not None else None
    # One query per mailbox (usually one), merged here: each stays a range scan of the
    # (mailbox, received_at, id) index, where `mailbox IN (...)` would need a sort of all rows.
    per_mailbox = [_fetch_one(_filtered(mid, filters, in_folder), bound, forward, limit) for mid in mailbox_ids]
    return list(heapq.merge(*per_mailbox, key=lambda e: _sort_key(e, forward)))[:limit]


def _in_folder(folder: Folder) -> Q | Exists:
    placements = Placement.objects.filter(folder_id=folder.pk)
    # One row past the limit answers "is it big?" without loading thousands of ids.
    if not list(placements.values_list("id", flat=True)[SMALL_FOLDER : SMALL_FOLDER + 1]):
        return Q(id__in=list(placements.values_list("email_id", flat=True)))
    return Exists(placements.filter(email_id=OuterRef("pk")))


def _filtered(mailbox_id: int, filters: MailFilter, in_folder: Q | Exists | None) -> QuerySet[Email]:
    emails = Email.objects.filter(mailbox_id=mailbox_id)
    if filters.unread:
        emails = emails.filter(is_seen=False)
    if filters.flagged:
        emails = emails.filter(is_flagged=True)
    if in_folder is not None:
        emails = emails.filter(in_folder)
    if filters.query:
        emails = search.filter_matching(emails, filters.query)
    return emails.only(*LIST_FIELDS).annotate(preview=Substr("body_text", 1, PREVIEW_CHARS))


def _fetch_one(emails: QuerySet[Email], bound: Position | None, forward: bool, limit: int) -> list[Email]:
    # Dated rows (segment 0) come before undated ones (segment 1) in list order; a page can span both.
    start = bound.segment if bound is not None else (0 if forward else 1)
    segments = [s for s in (0, 1) if s >= start] if forward else [s for s in (1, 0) if s <= start]
    rows: list[Email] = []
    for segment in segments:
        edge = bound if bound is not None and bound.segment == segment else None
        rows += _segment(emails, segment, edge, forward)[: limit - len(rows)]
        if len(rows) >= limit:
            break
    return rows


def _segment(emails: QuerySet[Email], segment: int, edge: Position | None, forward: bool) -> QuerySet[Email]:
    # Forward walks towards older rows (smaller keys), backward towards newer ones.
    past, up_to = ("lt", "lte") if forward else ("gt", "gte")
    if segment == 1:
        emails = emails.filter(received_at__isnull=True)
        if edge is not None:
            emails = emails.filter(**{f"id__{past}": edge.id})
        return emails.order_by("-id" if forward else "id")
    emails = emails.filter(received_at__isnull=False)
    if edge is not None:
        # The first condition is implied by the second but lets both databases start the index
        # range scan at the edge instead of filtering from the top.
        when = edge.received_at
        emails = emails.filter(**{f"received_at__{up_to}": when}).filter(
            Q(**{f"received_at__{past}": when}) | Q(received_at=when, **{f"id__{past}": edge.id})
        )
    return emails.order_by(*(("-received_at", "-id") if forward else ("received_at", "id")))


def _sort_key(email: Email, forward: bool) -> tuple[Any, ...]:
    when = email.received_at
    key = (0, (when - _EPOCH) // _MICROSECOND, email.id) if when is not None else (1, 0, email.id)
    # Forward: dated first, newest first; backward: the exact reverse.
    return (key[0], -key[1], -key[2]) if forward else (-key[0], key[1], key[2])


# -- one message -----------------------------------------------------------------------------------


@dataclass
class MessageView:
    email: Email
    attachments: list[Attachment]  # listed for download (parts shown inside the HTML are not)
    remote_content: bool  # the HTML refers to remote images: offer "Show images"
    thread_size: int


def message_view(email: Email) -> MessageView:
    html = email.body_html.lower()
    parts = [
        part for part in email.attachments.all()
        if not (part.inline and part.content_id and f"cid:{part.content_id.lower()}" in html)
    ]
    size = Email.objects.filter(thread_id=email.thread_id).count() if email.thread_id else 1
    return MessageView(email, parts, bool(email.body_html) and has_remote_content(email.body_html), size)


@dataclass(frozen=True)
class InlineParts:
    """The stored parts of one email that have a Content-ID, for its HTML's cid: URLs. A URL names
    the part by its id, never by the Content-ID: that is the sender's text, and as part of a path
    it could point anywhere on this site ("../../1/")."""

    exact: dict[str, int]
    folded: dict[str, int]  # lower-cased Content-ID -> part id: cid: URLs are matched ignoring case

    def find(self, content_id: str) -> int | None:
        return self.exact.get(content_id, self.folded.get(content_id.lower()))


def inline_parts(email: Email) -> InlineParts:
    rows = email.attachments.exclude(content_id="").filter(blob__isnull=False).order_by("position", "id")
    pairs = list(rows.values_list("content_id", "id"))
    folded: dict[str, int] = {}
    for content_id, part_id in pairs:
        folded.setdefault(content_id.lower(), part_id)
    return InlineParts(exact=dict(reversed(pairs)), folded=folded)
