"""Pure parsing of IMAP answers (no IO): LIST items, FETCH items, STATUS, dates, modified UTF-7
names; and the UID sets of commands.

Kept apart from imap.py, which does the talking, so every odd server spelling can be tested
without a server.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

SPECIAL_USES = ("\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive")
# Servers without SPECIAL-USE (and older Exchange) still name their folders like this.
WELL_KNOWN_NAMES = {
    "sent": "\\Sent", "sent items": "\\Sent", "sent messages": "\\Sent", "drafts": "\\Drafts",
    "trash": "\\Trash", "deleted items": "\\Trash", "deleted messages": "\\Trash", "junk": "\\Junk",
    "junk email": "\\Junk", "junk e-mail": "\\Junk", "spam": "\\Junk", "archive": "\\Archive",
}

@dataclass(frozen=True)
class RemoteFolder:
    name: str  # as the server spells it (modified UTF-7): use this in commands
    display_name: str
    delimiter: str
    special_use: str  # "\\Inbox", "\\Sent", ... or ""
    selectable: bool


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    uid: int
    flags: tuple[str, ...]
    internaldate: datetime | None
    size: int
    raw: bytes
    # Why `raw` is not the whole message (over the size limit: its headers, or nothing); "" = whole.
    defect: str = ""


@dataclass(frozen=True)
class RemoteStatus:
    """What STATUS/SELECT says about a folder."""

    uidvalidity: int
    uidnext: int | None
    messages: int
    highestmodseq: int | None = None


# Every pattern run on a server's answer is linear in its length: no pattern scans past the
# start of its next possible match (FLAGS stops at any parenthesis, INTERNALDATE at the quote).
LITERAL = re.compile(rb"~?\{(\d+)\+?\}\r\n$")
UID_ITEM = re.compile(rb"\bUID (\d{1,10})\b")
FLAGS_ITEM = re.compile(rb"\bFLAGS \(([^()]*)\)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_SIZE = re.compile(rb"RFC822\.SIZE (\d{1,20})\b")
_STATUS_ITEM = re.compile(rb"\b([A-Za-z]{1,32}) (\d{1,20})\b")
# Email.size is a 32-bit integer column; a server may claim anything.
_MAX_SIZE = 2**31 - 1
# The header block of a message over the size limit is kept when it ends within this many bytes.
HEADER_MAX = 1024 * 1024
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def fetched_message(text: bytes, body: bytes, max_size: int = 0) -> FetchedMessage | None:
    """The message of one FETCH response. A body longer than `max_size` (the first bytes of a
    bigger message: the sync asks for at most max_size + 1) keeps only its header block."""
    uid = UID_ITEM.search(text)
    if uid is None:
        return None
    flags = FLAGS_ITEM.search(text)
    idate = _INTERNALDATE.search(text)
    size = _SIZE.search(text)
    defect = ""
    if max_size and len(body) > max_size:
        body = header_block(body)
        total = max(int(size.group(1)) if size else 0, max_size + 1)
        defect = (f"This message is {describe_size(total)}, over the limit of {describe_size(max_size)} for one "
                  "message: only its headers were stored.")
    return FetchedMessage(
        uid=int(uid.group(1)),
        flags=tuple(flags.group(1).decode("utf-8", "replace").split()) if flags else (),
        internaldate=parse_internaldate(idate.group(1).decode("ascii", "replace")) if idate else None,
        size=min(int(size.group(1)) if size else len(body), _MAX_SIZE),
        raw=body,
        defect=defect,
    )


def unread_message(text: bytes, announced: int, max_size: int) -> FetchedMessage | None:
    """A message whose FETCH response announced a literal over the limit, which was not read:
    what the response said before it (UID, flags, date), and no content."""
    message = fetched_message(text, b"")
    if message is None:
        return None
    defect = (f"The server announced this message as {describe_size(announced)}, over the limit of "
              f"{describe_size(max_size)} for one message: it was not read.")
    return replace(message, size=min(max(message.size, announced), _MAX_SIZE), defect=defect)


def header_block(raw: bytes) -> bytes:
    """The header block of a message with its blank line, or b"" if it does not end early enough."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(separator, 0, HEADER_MAX)
        if end >= 0:
            return raw[: end + len(separator)]
    return b""


def describe_size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MB"


def parse_status(raw: bytes) -> dict[bytes, int]:
    """The items of a STATUS answer: {b"UIDVALIDITY": 7, b"MESSAGES": 12, ...}."""
    return {key.upper(): int(value) for key, value in _STATUS_ITEM.findall(raw)}


def parse_search(text: bytes) -> list[int]:
    """The UIDs of one `* SEARCH ...` line (anything that is not a UID is left out)."""
    return [int(token) for token in text[8:].split() if token.isdigit() and len(token) <= 10]


def uid_ranges(uids: Sequence[int]) -> str:
    """An IMAP sequence set ("1:3,7") for ascending UIDs."""
    parts: list[str] = []
    start = prev = None
    for uid in uids:
        if start is None:
            start = prev = uid
        elif prev is not None and uid == prev + 1:
            prev = uid
        else:
            parts.append(f"{start}:{prev}" if prev != start else str(start))
            start = prev = uid
    if start is not None:
        parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def parse_internaldate(value: str) -> datetime | None:
    """'17-Jul-1996 02:44:25 -0700' -> aware datetime (None if malformed)."""
    try:
        day_part, time_part, zone = value.strip().split()
        day, month, year = day_part.split("-")
        hour, minute, second = (int(x) for x in time_part.split(":"))
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (-1 if zone[0] == "-" else 1)
        return datetime(int(year), _MONTHS[month.lower()], int(day), hour, minute, second,
                        tzinfo=timezone(offset))
    except (ValueError, KeyError, IndexError):
        return None


def imap_date(day: date) -> str:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{day.day}-{months[day.month - 1]}-{day.year}"


# -- LIST parsing and modified UTF-7 -----------------------------------------------------------

_LIST_HEAD = re.compile(rb'^\(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") ?(.*)$', re.DOTALL)


def parse_list_item(item: Any) -> RemoteFolder | None:
    """One LIST answer from imaplib: bytes, or (head, literal name) when the name is a literal."""
    if item is None:
        return None
    if isinstance(item, tuple):
        head, literal = item[0], item[1]
        match = _LIST_HEAD.match(head)
        if match is None:
            return None
        name = literal.decode("utf-8", "replace")
    else:
        match = _LIST_HEAD.match(item)
        if match is None:
            return None
        rest = match.group(3).strip()
        name = _unquote(rest.decode("utf-8", "replace"))
    attributes = match.group(1).decode("ascii", "replace").split()
    raw_delimiter = match.group(2).decode("utf-8", "replace")
    delimiter = "" if raw_delimiter.upper() == "NIL" else _unquote(raw_delimiter)
    lowered = {a.lower() for a in attributes}
    selectable = not ({"\\noselect", "\\nonexistent"} & lowered)
    special = next((s for s in SPECIAL_USES if s.lower() in lowered), "")
    if name.upper() == "INBOX":
        name, special = "INBOX", "\\Inbox"
    elif not special and (not delimiter or delimiter not in name):
        # Only top-level folders: "Projects/Archive" is not the archive.
        special = WELL_KNOWN_NAMES.get(decode_mutf7(name).lower(), "")
    return RemoteFolder(name, decode_mutf7(name), delimiter, special, selectable)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def decode_mutf7(name: str) -> str:
    """RFC 3501 5.1.3 modified UTF-7 -> text (undecodable runs are kept as they are)."""
    if "&" not in name:
        return name
    out, i = [], 0
    while i < len(name):
        if name[i] != "&":
            out.append(name[i])
            i += 1
            continue
        end = name.find("-", i + 1)
        if end == -1:
            out.append(name[i:])
            break
        if end == i + 1:
            out.append("&")
        else:
            chunk = name[i + 1 : end].replace(",", "/")
            try:
                out.append(base64.b64decode(chunk + "=" * (-len(chunk) % 4), validate=True).decode("utf-16-be"))
            except ValueError:
                out.append(name[i : end + 1])
        i = end + 1
    return "".join(out)


def encode_mutf7(text: str) -> str:
    """Text -> modified UTF-7 (for creating folders with non-ASCII names)."""
    out, pending = [], ""

    def flush() -> None:
        nonlocal pending
        if pending:
            b64 = base64.b64encode(pending.encode("utf-16-be")).decode().rstrip("=").replace("/", ",")
            out.append("&" + b64 + "-")
            pending = ""

    for ch in text:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending += ch
    flush()
    return "".join(out)
