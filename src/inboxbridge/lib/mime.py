"""Fast, total MIME parser for synchronised mail.

The stdlib ``email`` feedparser walks every line of a message in Python, which makes
large base64 attachments dominate sync time. Here header blocks are split by hand,
part boundaries are found with ``bytes.find`` (C speed), transfer encodings are
decoded with ``binascii`` in one call per part, and attached messages are kept as
raw bytes without being parsed. ``parse_message`` never raises: problems are
reported in ``ParsedMessage.defects``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache

from .mime_headers import (
    decode_field,
    decode_header_value,
    decode_words,
    parse_addresses,
    parse_date,
    parse_msgid,
    parse_msgid_list,
    parse_structured,
    sanitize_filename,
    split_header_block,
)
from .mime_parts import mime_fields, split_parts
from .mime_text import clean_str, decode_text, decode_transfer, short, size_text, utf8_prefix

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_SIZE",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_PARTS",
    "Address",
    "ParseLimits",
    "ParsedAttachment",
    "ParsedMessage",
    "decode_header_value",
    "parse_message",
    "synthetic_message_id",
]

DEFAULT_MAX_ATTACHMENT_SIZE = 25 * 1024 * 1024
# The text and the HTML body are each kept up to this many bytes (UTF-8): more is not readable on a
# page, is cut before display anyway (INBOXBRIDGE_HTML_MAX_BYTES), and costs every reader of the row.
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
# Body parts read per message, all levels together: real mail has a handful, a big digest a few
# hundred; a few bytes of boundary lines make another, so a hostile message can hold millions.
DEFAULT_MAX_PARTS = 1000


@dataclass(frozen=True)
class ParseLimits:
    """How much of one message is read (the sync takes them from INBOXBRIDGE_ATTACHMENT_MAX_BYTES,
    INBOXBRIDGE_BODY_MAX_BYTES and INBOXBRIDGE_MESSAGE_MAX_PARTS)."""

    attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_SIZE
    body_bytes: int = DEFAULT_MAX_BODY_BYTES
    parts: int = DEFAULT_MAX_PARTS


# Every nesting level needs its own boundary line, so real mail stays far below
# this; the cap keeps crafted input away from the recursion limit.
_MAX_DEPTH = 40
SYNTHETIC_ID_DOMAIN = "synthetic.inboxbridge"


@dataclass(frozen=True, slots=True)
class Address:
    name: str  # display name, RFC 2047 decoded; "" if none
    address: str  # addr-spec as given


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    filename: str  # RFC 2231/2047 decoded, sanitized (no directories, controls, bidi overrides); "" if none
    content_type: str  # lowercase maintype/subtype
    size: int  # decoded size in bytes
    sha256: str  # hex digest of the decoded bytes, also when omitted
    data: bytes | None  # decoded bytes; None when omitted
    content_id: str  # without <>; "" if none
    inline: bool  # Content-Disposition inline, a Content-ID in multipart/related, or cid: referenced
    omitted: bool  # over max_attachment_size: data is None


@dataclass(slots=True)
class ParsedMessage:
    message_id: str = ""  # without <>; "" if absent (see synthetic_message_id)
    subject: str = ""  # decoded, unfolded
    sender: Address | None = None  # first From address
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    bcc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    date: datetime | None = None  # timezone-aware (UTC when the header has no zone); None if unparseable
    in_reply_to: str = ""  # first msg-id, without <>
    references: list[str] = field(default_factory=list)  # msg-ids without <>, in order
    text: str = ""  # text/plain body parts joined (LF line endings); "" if none
    html: str = ""  # text/html body parts joined; "" if none
    attachments: list[ParsedAttachment] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)  # top-level, names as given, values decoded
    defects: list[str] = field(default_factory=list)  # human-readable problems found
    truncated: bool = False  # some attachment was omitted for size, or the body or its parts were cut


# Content-Type values and correspondents repeat across a mailbox; caching their
# parse is a large share of the per-message cost saved. Results are shared: the
# params dicts must not be mutated.
_structured = lru_cache(maxsize=2048)(parse_structured)


@lru_cache(maxsize=4096)
def _addresses(value: str) -> tuple[Address, ...]:
    return tuple(Address(name, addr) for name, addr in parse_addresses(value))


class _Bodies:
    __slots__ = ("html", "text")

    def __init__(self) -> None:
        self.text: list[str] = []
        self.html: list[str] = []


class _Walker:
    __slots__ = ("attachments", "defects", "max_parts", "max_size", "parts", "parts_cut", "raw", "truncated")

    def __init__(self, raw: bytes, max_size: int, max_parts: int, defects: list[str]) -> None:
        self.raw = raw
        self.max_size = max_size
        self.max_parts = max_parts
        self.parts = 0  # body parts read so far
        self.parts_cut = False
        self.defects = defects
        self.attachments: list[ParsedAttachment] = []
        self.truncated = False

    def too_many_parts(self) -> None:
        if not self.parts_cut:
            self.defects.append(f"more than {self.max_parts} body parts; the rest were not read")
        self.parts_cut = self.truncated = True

    def defect(self, path: str, text: str | None) -> None:
        if text:
            self.defects.append(f"part {path}: {text}" if path else text)

    def entity(
        self,
        fields: list[tuple[str, str]],
        start: int,
        end: int,
        default_type: str,
        out: _Bodies,
        depth: int,
        in_related: bool,
        path: str,
    ) -> None:
        ctype_raw, disp_raw, cte, cid = mime_fields(fields)
        params: dict[str, str]
        if ctype_raw is None:
            ctype, params = default_type, {}
        else:
            ctype, params = _structured(ctype_raw)
            main, _, sub = ctype.partition("/")
            if not main or not sub or "/" in sub:
                self.defect(path, f"invalid Content-Type {short(ctype_raw)}, using text/plain")
                ctype = "text/plain"
        maintype, _, subtype = ctype.partition("/")

        if maintype == "multipart":
            boundary = params.get("boundary", "").strip()
            if depth >= _MAX_DEPTH:
                self.defect(path, "multipart nesting too deep, kept as one attachment")
                self.attach(self.raw[start:end], "", "application/octet-stream", cid, False)
                return
            if not boundary:
                self.defect(path, f"{short(ctype)} without boundary parameter, read as text")
            elif self.multipart(start, end, boundary, subtype, out, depth, path):
                return
            ctype, maintype, subtype = "text/plain", "text", "plain"

        disposition, dparams = _structured(disp_raw) if disp_raw else ("", {})
        filename = dparams.get("filename") or params.get("name") or ""
        if filename:
            if "=?" in filename:
                filename = decode_words(filename)
            filename = sanitize_filename(filename)
        inline = disposition == "inline" or (in_related and bool(cid))

        data, problem = decode_transfer(self.raw, start, end, cte)
        self.defect(path, problem)
        if maintype == "text" and subtype in ("plain", "html") and disposition != "attachment":
            text, problem = decode_text(data, params.get("charset"))
            self.defect(path, problem)
            text = clean_str(text)
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            (out.html if subtype == "html" else out.text).append(text)
            return
        if maintype == "message" and subtype in ("rfc822", "global") and not filename:
            filename = _eml_name(data)
        self.attach(data, filename, ctype, cid, inline)

    def multipart(
        self,
        start: int,
        end: int,
        boundary: str,
        subtype: str,
        out: _Bodies,
        depth: int,
        path: str,
    ) -> bool:
        room = max(self.max_parts - self.parts, 0)
        found = split_parts(self.raw, start, end, boundary.encode("utf-8", "surrogateescape"), room + 1)
        if found is None and not boundary.isascii():
            # The header may have been decoded as latin-1 rather than UTF-8.
            found = split_parts(self.raw, start, end, boundary.encode("latin-1", "replace"), room + 1)
        if found is None:
            self.defect(path, f"no delimiter for boundary {short(boundary)} found, body read as text")
            return False
        parts, closed = found
        if not closed:
            self.defect(path, f"missing end boundary for multipart/{subtype}")
        if len(parts) > room:
            parts = parts[:room]
            self.too_many_parts()
        child_default = "message/rfc822" if subtype == "digest" else "text/plain"
        related = subtype == "related"
        prefix = f"{path}." if path else ""
        if subtype != "alternative":
            for i, (ps, pe) in enumerate(parts, 1):
                self.part(ps, pe, child_default, out, depth + 1, related, f"{prefix}{i}")
            return True
        # RFC 2046: alternatives are in increasing order of preference, so the last
        # one offering plain text wins for .text and the last offering HTML for .html.
        best_text: list[str] = []
        best_html: list[str] = []
        for i, (ps, pe) in enumerate(parts, 1):
            sub = _Bodies()
            self.part(ps, pe, child_default, sub, depth + 1, related, f"{prefix}{i}")
            if sub.text:
                best_text = sub.text
            if sub.html:
                best_html = sub.html
        out.text.extend(best_text)
        out.html.extend(best_html)
        return True

    def part(
        self,
        start: int,
        end: int,
        default_type: str,
        out: _Bodies,
        depth: int,
        in_related: bool,
        path: str,
    ) -> None:
        if self.parts >= self.max_parts:  # the parts of nested multiparts count too
            self.too_many_parts()
            return
        self.parts += 1
        problems: list[str] = []
        fields, body_start = split_header_block(self.raw, start, end, problems)
        for problem in problems:
            self.defect(path, problem)
        self.entity(fields, body_start, end, default_type, out, depth, in_related, path)

    def attach(self, data: bytes, filename: str, ctype: str, cid: str, inline: bool) -> None:
        size = len(data)
        omitted = size > self.max_size
        if omitted:
            self.truncated = True
        self.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=ctype,
                size=size,
                sha256=hashlib.sha256(data).hexdigest(),
                data=None if omitted else data,
                content_id=cid,
                inline=inline,
                omitted=omitted,
            )
        )


def _eml_name(data: bytes) -> str:
    # Only the inner header block is read: attached messages stay unparsed (cheap).
    fields, _ = split_header_block(data, 0, len(data))
    for name, value in fields:
        if name.lower() == "subject":
            subject = sanitize_filename(decode_header_value(value), from_path=False)
            if subject:
                return sanitize_filename(subject + ".eml", from_path=False)
            break
    return "message.eml"


def _join_text(pieces: list[str]) -> str:
    if len(pieces) <= 1:
        return pieces[0] if pieces else ""
    out = [pieces[0]]
    for piece in pieces[1:]:
        if out[-1] and not out[-1].endswith("\n"):
            out.append("\n")
        out.append(piece)
    return "".join(out)


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, (bytearray, memoryview)):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


_ADDRESS_LISTS = frozenset({"to", "cc", "bcc", "reply_to"})
_WANTED = {
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "reply-to": "reply_to",
    "from": "from",
    "subject": "subject",
    "message-id": "message-id",
    "date": "date",
    "in-reply-to": "in-reply-to",
    "references": "references",
}


def _parse(raw: bytes, max_size: int, max_body: int, max_parts: int, msg: ParsedMessage) -> None:
    if not raw:
        msg.defects.append("empty message")
        return
    fields, body_start = split_header_block(raw, 0, len(raw), msg.defects)
    if not fields:
        msg.defects.append("message has no header fields")
    headers = msg.headers
    wanted = _WANTED
    for name, value in fields:
        text = decode_field(value) if "=?" in value or "\x00" in value else value
        headers.append((name, text))
        what = wanted.get(name.lower())
        if what is None:
            continue
        if what in _ADDRESS_LISTS:
            getattr(msg, what).extend(_addresses(value))
        elif what == "from":
            if msg.sender is None:
                found = _addresses(value)
                if found:
                    msg.sender = found[0]
        elif what == "subject":
            if not msg.subject:
                msg.subject = text
        elif what == "message-id":
            if not msg.message_id:
                msg.message_id = parse_msgid(text)
        elif what == "date":
            if msg.date is None:
                msg.date = parse_date(text)
                if msg.date is None:
                    msg.defects.append(f"unparseable Date header {short(text)}")
        elif what == "in-reply-to":
            if not msg.in_reply_to:
                ids = parse_msgid_list(text)
                msg.in_reply_to = ids[0] if ids else ""
        elif not msg.references:
            msg.references = parse_msgid_list(text)

    walker = _Walker(raw, max_size, max_parts, msg.defects)
    bodies = _Bodies()
    try:
        walker.entity(fields, body_start, len(raw), "text/plain", bodies, 0, False, "")
    finally:
        # Keep whatever was found before an unexpected error.
        msg.text = _body(_join_text(bodies.text), max_body, "text", msg)
        msg.html = _body("".join(bodies.html), max_body, "HTML", msg)
        msg.attachments = walker.attachments
        msg.truncated = msg.truncated or walker.truncated
    if msg.html:
        html = msg.html
        msg.attachments = [
            replace(a, inline=True) if a.content_id and not a.inline and f"cid:{a.content_id}" in html else a
            for a in msg.attachments
        ]


def _body(text: str, limit: int, what: str, msg: ParsedMessage) -> str:
    kept, cut = utf8_prefix(text, limit)
    if cut:
        msg.defects.append(f"the {what} body is over {size_text(limit)}; only its beginning was kept")
        msg.truncated = True
    return kept


def parse_message(
    raw: bytes,
    *,
    max_attachment_size: int = DEFAULT_MAX_ATTACHMENT_SIZE,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_parts: int = DEFAULT_MAX_PARTS,
) -> ParsedMessage:
    """Parse one RFC 5322 message; never raises, problems go to ``defects``. Bodies over
    ``max_body_bytes`` and parts past ``max_parts`` are cut, with a defect, and ``truncated`` set."""
    msg = ParsedMessage()
    try:
        _parse(_as_bytes(raw), max_attachment_size, max_body_bytes, max_parts, msg)
    except Exception as exc:
        msg.defects.append(f"internal parser error ({type(exc).__name__}: {exc}); result incomplete")
    return msg


def synthetic_message_id(raw: bytes) -> str:
    """Stable id for mail without Message-ID (no angle brackets, like ``message_id``).

    Built from the Date/From/To/Subject values (decoded, whitespace-normalised) and
    a hash of the body with line endings normalised, so the same message yields
    the same id from any folder, over IMAP (CRLF) or from a Maildir file (LF).
    """
    data = _as_bytes(raw)
    wanted: dict[str, list[str]] = {"date": [], "from": [], "to": [], "subject": []}
    try:
        fields, body_start = split_header_block(data, 0, len(data))
    except Exception:
        fields, body_start = [], 0
    for name, value in fields:
        values = wanted.get(name.lower())
        if values is not None:
            values.append(" ".join(decode_header_value(value).split()))
    digest = hashlib.sha256()
    for key, values in wanted.items():
        digest.update(f"{key}:{chr(10).join(values)}".encode("utf-8", "replace") + b"\0")
    body = data[body_start:].replace(b"\r\n", b"\n").rstrip(b"\n")
    digest.update(hashlib.sha256(body).digest())
    return f"{digest.hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"
