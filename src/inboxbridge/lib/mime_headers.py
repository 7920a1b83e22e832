"""Header-level parsing for the fast MIME parser.

Header blocks are split with one regex pass per block instead of ``email.feedparser``'s
per-line Python loop; RFC 2047 words, RFC 2231 parameters, address lists and dates
are decoded with small, total functions that never raise.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_tz
from urllib.parse import unquote_to_bytes

from .mime_text import b64decode_lenient, bytes_to_str, clean_str, decode_text

# sre scans for the leading literal faster than bytes.find() does for a short needle.
_BLANK_LINE = re.compile(rb"\n\r?\n")


def find_header_end(raw: bytes, start: int, end: int) -> tuple[int, int]:
    """Locate the blank line ending the header block in ``raw[start:end]``.

    Returns (block_end, body_start); block_end includes the last header line's newline.
    Without a blank line the whole range is the header block.
    """
    if raw.startswith(b"\n", start, end):
        return start, start + 1
    if raw.startswith(b"\r\n", start, end):
        return start, start + 2
    m = _BLANK_LINE.search(raw, start, end)
    if m is None:
        return end, end
    return m.start() + 1, m.end()


# A header field: name (printable ASCII except ':'; blanks before the colon are
# tolerated because "Subject : x" exists in the wild), then the value with its
# continuation lines.
_FIELDS = re.compile(r"^([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*(.*(?:\n[ \t].*)*)", re.M)
_FIELD_BYTES = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)(?:\n|\Z)")


def _unfold(value: str) -> str:
    if "\n" in value:
        value = value.replace("\r\n", "").replace("\n", "")
    return value.strip()


def split_header_block(
    raw: bytes, start: int, end: int, defects: list[str] | None = None
) -> tuple[list[tuple[str, str]], int]:
    """Split the header block at ``raw[start:end]`` into (name, value) pairs.

    Values are unfolded and stripped, decoded from UTF-8 (latin-1 when invalid) but
    not RFC 2047 decoded. Returns the fields and the offset where the body starts.
    Like the stdlib, a line that is neither a field nor a continuation ends the
    header block and starts the body.
    """
    block_end, body_start = find_header_end(raw, start, end)
    if block_end <= start:
        return [], body_start
    try:
        text = raw[start:block_end].decode("utf-8")
    except UnicodeDecodeError:
        return _split_header_lines(raw, start, end, defects)
    # One findall does the per-line work in C. Every physical line must belong to a
    # field, which the line counts prove; otherwise the line-by-line path decides.
    out: list[tuple[str, str]] = []
    lines = 0
    for name, value in _FIELDS.findall(text):
        lines += 1
        if "\n" in value:
            lines += value.count("\n")
            value = value.replace("\r\n", "").replace("\n", "")
        out.append((name, value.strip()))
    if lines != text.count("\n") + (not text.endswith("\n")):
        return _split_header_lines(raw, start, end, defects)
    return out, body_start


def _split_header_lines(
    raw: bytes, start: int, end: int, defects: list[str] | None
) -> tuple[list[tuple[str, str]], int]:
    fields: list[tuple[str, str]] = []
    pos = start
    match = _FIELD_BYTES.match
    while pos < end:
        m = match(raw, pos, end)
        if m is None:
            c = raw[pos]
            if c == 10:
                return fields, pos + 1
            if c == 13 and (pos + 1 == end or raw[pos + 1] == 10):
                return fields, min(pos + 2, end)
            nl = raw.find(b"\n", pos, end)
            line_end = end if nl == -1 else nl + 1
            if c == 32 or c == 9:
                if defects is not None:
                    defects.append("header block starts with a continuation line; ignored")
                pos = line_end
                continue
            if pos == start and raw.startswith(b"From ", pos, end):
                pos = line_end  # mbox envelope line, not a header
                continue
            if defects is not None:
                defects.append("missing blank line between headers and body")
            return fields, pos
        # Per field, so one 8-bit legacy header does not turn the others to mojibake.
        fields.append((m.group(1).decode("ascii"), _unfold(bytes_to_str(m.group(2)))))
        pos = m.end()
    return fields, end


# ---------------------------------------------------------------------------
# RFC 2047 encoded words

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")


def _flush(pieces: list[str], charset: str | None, chunks: list[bytes]) -> None:
    if charset is not None and chunks:
        pieces.append(decode_text(b"".join(chunks), charset)[0])
        chunks.clear()


def decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words in ``text`` (already unfolded)."""
    if "=?" not in text:
        return text
    pieces: list[str] = []
    chunks: list[bytes] = []
    charset: str | None = None
    last = 0
    for m in _ENCODED_WORD.finditer(text):
        gap = text[last : m.start()]
        # Blanks between two encoded words are folding artefacts (RFC 2047 6.2).
        if gap and (charset is None or not gap.isspace()):
            _flush(pieces, charset, chunks)
            charset = None
            pieces.append(gap)
        word_charset = m.group(1).partition("*")[0].lower()
        payload = m.group(3).encode("utf-8", "surrogateescape")
        if m.group(2) in "bB":
            data = b64decode_lenient(payload)[0]
        else:
            data = binascii.a2b_qp(payload, header=True)
        # Adjacent words in one charset are joined before decoding: encoders split
        # multi-byte characters across words.
        if word_charset != charset:
            _flush(pieces, charset, chunks)
            charset = word_charset
        chunks.append(data)
        last = m.end()
    _flush(pieces, charset, chunks)
    pieces.append(text[last:])
    return "".join(pieces)


_SURROGATES = re.compile("[\ud800-\udfff]")


def decode_field(value: str) -> str:
    """decode_header_value() for a value from split_header_block (hot path)."""
    if "=?" in value:
        try:
            value = decode_words(value).strip()
        except (ValueError, TypeError, UnicodeError, LookupError):
            pass
        return clean_str(value)
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value


def decode_header_value(value: str | bytes) -> str:
    """RFC 2047 decode and unfold a header value; tolerant of raw 8-bit and broken words."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes_to_str(bytes(value))
    elif isinstance(value, str):
        text = value
        if not text.isascii() and _SURROGATES.search(text):
            try:
                # compat32 hands out 8-bit header bytes as surrogate escapes.
                text = bytes_to_str(text.encode("utf-8", "surrogateescape"))
            except UnicodeEncodeError:
                text = _SURROGATES.sub("\ufffd", text)
    else:
        text = str(value)
    if "\n" in text or "\r" in text:
        text = text.replace("\r", "").replace("\n", "")
    try:
        text = decode_words(text)
    except (ValueError, TypeError, UnicodeError, LookupError):
        pass
    return clean_str(text)


# ---------------------------------------------------------------------------
# Structured values: Content-Type / Content-Disposition with parameters

_PARAM = re.compile(r';\s*([^\s=;"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*(?:"|$)|[^;]*))?', re.S)


def _unquote(value: str) -> str:
    value = value.strip()
    if value.startswith('"'):
        value = value[1:-1] if len(value) > 1 and value.endswith('"') else value[1:]
        # Only \\ and \" like the stdlib: Windows paths in filenames keep their backslashes.
        return value.replace("\\\\", "\\").replace('\\"', '"')
    return value


def _rfc2231_value(segments: list[tuple[int, bool, str]]) -> str:
    segments.sort(key=lambda s: s[0])
    charset = ""
    parts: list[bytes] = []
    for i, (_, encoded, value) in enumerate(segments):
        if encoded:
            if i == 0 and value.count("'") >= 2:
                charset, _, rest = value.split("'", 2)
                value = rest
            parts.append(unquote_to_bytes(value))
        else:
            parts.append(value.encode("utf-8", "surrogateescape"))
    return decode_text(b"".join(parts), charset or "utf-8")[0]


# 'type/sub; name="value"' or 'type/sub; name=value': most Content-Type and
# Content-Disposition values, handled without the general loop. Possessive quantifiers: with plain
# ones the blanks around the optional ";" at the end could be split in every way before fullmatch
# gave up, quadratic in a run of blanks (20,000 took 4.5 s).
_ONE_PARAM = re.compile(
    r'\s*+([^\s;"]++)\s*+;\s*+([A-Za-z][A-Za-z0-9-]*+)\s*+=\s*+(?:"([^"\\]*+)"|([^\s;"]++))\s*+;?\s*+'
)


def parse_structured(value: str) -> tuple[str, dict[str, str]]:
    """Split 'type/sub; a=b; c*=utf-8''x' into (lowercased main value, params).

    Parameter names are lowercased; RFC 2231 continuations and charsets are
    resolved; the first occurrence of a parameter wins, like the stdlib.
    """
    if ";" not in value:
        tokens = value.split()
        return (tokens[0].lower() if tokens else ""), {}
    m = _ONE_PARAM.fullmatch(value)
    if m is not None:
        param = m.group(3)
        return m.group(1).lower(), {m.group(2).lower(): m.group(4) if param is None else param}
    main, _, _ = value.partition(";")
    tokens = main.split()
    main = tokens[0].lower() if tokens else ""
    params: dict[str, str] = {}
    extended: dict[str, list[tuple[int, bool, str]]] = {}
    for m in _PARAM.finditer(value):
        name = m.group(1).lower()
        raw_val = _unquote(m.group(2) or "")
        star = name.find("*")
        if star == -1:
            params.setdefault(name, raw_val)
            continue
        base, rest = name[:star], name[star + 1 :]
        encoded = rest.endswith("*") or rest == ""
        num = rest.rstrip("*")
        if num == "":
            index = 0
        elif num.isascii() and num.isdigit() and len(num) <= 4:
            index = int(num)
        else:
            continue
        extended.setdefault(base, []).append((index, encoded, raw_val))
    for base, segments in extended.items():
        try:
            params[base] = _rfc2231_value(segments)
        except (ValueError, TypeError, UnicodeError):
            pass
    return main, params


# ---------------------------------------------------------------------------
# Addresses, message ids, dates

# Possessive quantifiers: no backtracking, so hostile headers stay linear.
_SIMPLE_ADDRESS = re.compile(
    r"""\s*+(?:
        (?:"(?P<qname>(?:[^"\\]|\\.)*+)"\s*+|(?P<name>[^",<>()\[\]:;@\\]*+))<(?P<angle>[^<>",\s]*+)>
      | (?P<bare>[^\s,<>"()\[\]:;\\]++)
    )\s*+(?:,|\Z)""",
    re.X,
)
_BLANKS = re.compile(r"\s+")
_ONLY_BLANKS = re.compile(r"\s++\Z")
_QUOTED_PAIR = re.compile(r"\\(.)")


def _display_name(name: str) -> str:
    if not name:
        return ""
    return clean_str(decode_words(_BLANKS.sub(" ", name).strip()))


def parse_addresses(value: str) -> list[tuple[str, str]]:
    """Parse an address-list header value into (display name, addr-spec) pairs."""
    if not value or value.isspace():
        return []
    out: list[tuple[str, str]] = []
    pos, n = 0, len(value)
    # Fast path for the forms that make up nearly all real mail; anything else
    # (comments, groups, obsolete syntax) goes through the stdlib parser.
    while pos < n:
        m = _SIMPLE_ADDRESS.match(value, pos)
        if m is None or m.end() == pos:
            return _parse_addresses_slow(value)
        if m.group("bare") is not None:
            out.append(("", m.group("bare")))
        elif m.group("qname") is not None:
            out.append((_display_name(_QUOTED_PAIR.sub(r"\1", m.group("qname"))), m.group("angle")))
        else:
            out.append((_display_name(m.group("name")), m.group("angle")))
        pos = m.end()
        # Not value[pos:].isspace(): a copy of the rest per address is quadratic in a long list.
        if _ONLY_BLANKS.match(value, pos):
            break
    return out


def _parse_addresses_slow(value: str) -> list[tuple[str, str]]:
    try:
        pairs = getaddresses([value])
    except Exception:
        return []
    return [(_display_name(name), addr.strip()) for name, addr in pairs if name or addr]


_MSG_ID = re.compile(r"<([^<>]*)>")


def _clean_id(value: str) -> str:
    return "".join(value.split())


def parse_msgid(value: str) -> str:
    m = _MSG_ID.search(value)
    if m is not None:
        return _clean_id(m.group(1))
    return _clean_id(value.strip().strip("<>"))


def parse_msgid_list(value: str) -> list[str]:
    ids = [_clean_id(i) for i in _MSG_ID.findall(value)]
    if not ids:
        # Some clients omit the brackets; only keep tokens that look like ids.
        ids = [t for t in value.split() if "@" in t]
    return [i for i in ids if i]


_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
# The form nearly every MTA writes; everything else goes to email.utils.parsedate_tz.
_COMMON_DATE = re.compile(
    r"\s*(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"\s*([+-])(\d\d)(\d\d)\s*(?:\([^()]*\)\s*)?$"
)


_ZONES: dict[str, timezone] = {}


def _zone(zone: str) -> timezone:
    minutes = int(zone[1:3]) * 60 + int(zone[3:5])
    tz = timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
    if len(_ZONES) < 1000:  # real offsets are a few dozen; do not grow on junk
        _ZONES[zone] = tz
    return tz


def parse_date(value: str) -> datetime | None:
    """RFC 5322 date to an aware datetime (UTC when no zone is given); None if unparseable."""
    m = _COMMON_DATE.match(value)
    if m is not None:
        month = _MONTHS.get(m.group(2).lower())
        if month is not None:
            zone = m.group(7) + m.group(8) + m.group(9)
            try:
                tz = _ZONES.get(zone) or _zone(zone)
                return datetime(
                    int(m.group(3)),
                    month,
                    int(m.group(1)),
                    int(m.group(4)),
                    int(m.group(5)),
                    min(int(m.group(6) or 0), 59),
                    tzinfo=tz,
                )
            except (ValueError, OverflowError):
                pass  # let the stdlib parser have its say
    try:
        t = parsedate_tz(value)
    except (ValueError, IndexError, TypeError, OverflowError):
        return None
    if t is None:
        return None
    year, month, day, hour, minute, second = t[:6]
    second = min(second, 59)  # leap seconds
    zone = t[9]
    try:
        tz = UTC if zone is None else timezone(timedelta(seconds=zone))
    except (ValueError, OverflowError):
        tz = UTC
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except (ValueError, OverflowError, TypeError):
        return None


# Bidi overrides let "invoice\u202efdp.exe" display as "invoiceexe.pdf".
_CONTROL_OR_BIDI = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MAX_FILENAME = 255


def sanitize_filename(name: str, *, from_path: bool = True) -> str:
    """No directories, control or bidi-override characters; at most 255 characters.

    ``from_path``: keep the last path component (senders leak 'C:\\Users\\x\\f.pdf');
    otherwise separators become '_' (names built from a subject).
    """
    if from_path:
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
    else:
        name = name.replace("\\", "_").replace("/", "_")
    name = _CONTROL_OR_BIDI.sub("", name).strip()
    if name in (".", ".."):
        return ""
    if len(name) > _MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: _MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_FILENAME]
    return name
