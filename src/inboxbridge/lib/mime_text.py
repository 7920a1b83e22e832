"""Byte-level decoding for the fast MIME parser: transfer encodings and charsets.

Everything here is total: bad input yields best-effort output plus a defect string,
never an exception, because one broken message must not stop a mailbox sync.
"""

from __future__ import annotations

import binascii
import codecs
import re
from functools import lru_cache

import pybase64

# Labels seen in real mail that Python does not know, or where the de-facto
# meaning is a superset (what mail clients and browsers actually decode with).
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",  # Outlook's name for Korean
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "iso-8859-8-e": "iso-8859-8",
    "windows-874": "cp874",
    "tis-620": "cp874",
    "x-sjis": "shift_jis",
    "sjis": "shift_jis",
    "unicode-1-1-utf-7": "utf-7",
    "x-unicode20utf8": "utf-8",
    "utf8mb4": "utf-8",
    "cp-850": "cp850",
    "x-mac-roman": "mac-roman",
    "macintosh": "mac-roman",
}

# Codecs that are text encodings in name only for mail purposes: they reject the
# "replace" error handler or interpret escapes, so a hostile label could be used
# to make decoding raise or produce surprising text.
_REFUSED_CODECS = frozenset({"idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"})

# Labels whose bytes are in practice "whatever the sender's machine used":
# decode as utf-8 when valid, else Windows-1252 (what browsers do for latin-1).
_LOOSE_CODECS = frozenset({"ascii", "latin-1", "iso8859-1", "cp1252"})

_NOT_ASCII_COMPATIBLE_PREFIXES = ("iso2022", "utf-7", "utf-16", "utf-32", "hz")
_SURROGATES = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=512)
def _codec_for(charset: str) -> tuple[str | None, bool]:
    """Map a declared charset label to (python codec name or None, ascii_compatible)."""
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError):
        return None, True
    name = info.name.replace("_", "-")
    if not getattr(info, "_is_text_encoding", True) or name in _REFUSED_CODECS:
        return None, True
    if name.startswith(_NOT_ASCII_COMPATIBLE_PREFIXES):
        return name, False
    try:
        ascii_ok = b"AZaz09 <>=\n".decode(name) == "AZaz09 <>=\n"
    except (UnicodeError, LookupError, ValueError):
        return None, True
    return name, ascii_ok


def short(value: str, limit: int = 60) -> str:
    """repr() for defect messages, capped: defects quote sender-controlled text."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _loose_decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def decode_text(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode body or header bytes declared as ``charset``; returns (text, defect or None)."""
    codec, ascii_ok = _codec_for(charset or "us-ascii")
    if ascii_ok and data.isascii():
        return data.decode("ascii"), None
    if codec is None:
        return _loose_decode(data), f"unknown charset {short(str(charset))}, decoded as utf-8/latin-1"
    if codec in _LOOSE_CODECS:
        return _loose_decode(data), None
    try:
        text = data.decode(codec)
    except (UnicodeError, LookupError, ValueError):
        pass
    else:
        # UTF-8 never yields lone surrogates; UTF-7 and friends can, and they
        # would make the text unstorable.
        if codec != "utf-8" and _SURROGATES.search(text):
            return _SURROGATES.sub("\ufffd", text), f"lone surrogates in {short(str(charset))} text"
        return text, None
    defect = f"undecodable bytes for charset {short(str(charset))}"
    if codec != "utf-8":
        # Mislabelled UTF-8 is the most common cause of a failing legacy charset.
        try:
            return data.decode("utf-8"), defect
        except UnicodeDecodeError:
            pass
    try:
        return data.decode(codec, "replace"), defect
    except (UnicodeError, LookupError, ValueError):
        return data.decode("latin-1"), defect


def bytes_to_str(data: bytes) -> str:
    """Raw 8-bit header bytes: UTF-8 when valid, else latin-1 (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def utf8_prefix(text: str, limit: int) -> tuple[str, bool]:
    """The beginning of ``text`` that fits ``limit`` bytes of UTF-8 (never half a character), and
    whether anything was cut."""
    if len(text) * 4 <= limit:  # cannot be over: no need to encode
        return text, False
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return text, False
    return encoded[:limit].decode("utf-8", "ignore"), True


def size_text(size: int) -> str:
    """A byte count for people: "2 MB", "512 KB", "900 bytes"."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def clean_str(text: str) -> str:
    """Make decoded text storable: PostgreSQL rejects NUL characters."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    return text


# ---------------------------------------------------------------------------
# Content-Transfer-Encoding

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_NOT_ALPHABET = bytes(b for b in range(256) if b not in _B64_ALPHABET)
_B64_WHITESPACE = b" \t\r\n"
_PAD_RUN = re.compile(rb"=+")


def b64decode_lenient(data: bytes) -> tuple[bytes, str | None]:
    """Base64 decode that never raises; recovers chunks concatenated after padding."""
    try:
        return _b64decode(data), None
    except binascii.Error:
        pass
    return _b64_salvage(data)


def _b64decode(data: bytes | memoryview) -> bytes:
    # SIMD decoding: three times binascii's speed on attachments, the largest part of parsing
    # (bench/parse_bench.py). Unlike binascii it refuses data after padding, which then
    # goes to _b64_salvage and is kept rather than silently cut.
    return pybase64.b64decode(data, validate=False)


def _b64_salvage(data: bytes | memoryview) -> tuple[bytes, str | None]:
    raw = bytes(data)
    clean = raw.translate(None, _B64_NOT_ALPHABET.replace(b"=", b""))
    junk = len(raw) - len(clean) - sum(raw.count(c) for c in (b" ", b"\t", b"\r", b"\n"))
    problems = ["invalid characters in base64 data"] if junk else []
    chunks = [c for c in _PAD_RUN.split(clean) if c]
    if len(chunks) > 1 or (clean and not clean.rstrip(b"=")):
        problems.append("base64 data continues after padding")
    out = []
    for chunk in chunks:
        rem = len(chunk) % 4
        if rem == 1:
            # A lone trailing sextet cannot encode a byte: drop it.
            problems.append("truncated base64 data")
            chunk = chunk[:-1]
        elif rem:
            chunk += b"=" * (4 - rem)
            if len(chunks) == 1 and not problems:
                problems.append("missing base64 padding")
        out.append(binascii.a2b_base64(chunk))
    return b"".join(out), ("; ".join(problems) or None)


def _b64_body(raw: bytes, start: int, end: int) -> tuple[bytes, str | None]:
    view = memoryview(raw)[start:end]
    try:
        decoded = _b64decode(view)
    except binascii.Error:
        return _b64_salvage(view)
    # O(1) plausibility check assuming equal-length lines (every encoder does that);
    # only when it fails do we pay for a full pass to find junk or data after padding.
    nl = raw.find(b"\n", start, end)
    if nl == -1:
        line_len, eol = end - start, 0
    elif nl > start and raw[nl - 1] == 13:
        line_len, eol = nl - 1 - start, 2
    else:
        line_len, eol = nl - start, 1
    alpha = -(-len(decoded) // 3) * 4
    if line_len <= 0:
        return (decoded, None) if not decoded and not raw[start:end].strip() else _b64_salvage(view)
    lines = -(-alpha // line_len) if alpha else 0
    expected_end = start + alpha + eol * max(lines - 1, 0)
    if expected_end <= end and not raw[expected_end:end].strip(_B64_WHITESPACE):
        return decoded, None
    return _b64_salvage(view)


def _uu_decode(data: bytes) -> tuple[bytes, str | None]:
    lines = data.split(b"\n")
    begin = next((i for i, ln in enumerate(lines) if ln.startswith(b"begin")), None)
    if begin is None:
        return data, "uuencoded part without a begin line, kept encoded"
    out = []
    defect: str | None = "uuencoded part without an end line"
    for line in lines[begin + 1 :]:
        stripped = line.strip(b" \t\r\n\f")
        if stripped == b"end":
            defect = None
            break
        if not stripped:
            continue
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            # Same repair as the uu module: some encoders pad lines with garbage.
            nbytes = (((line[0] - 32) & 63) * 4 + 5) // 3
            try:
                out.append(binascii.a2b_uu(line[:nbytes]))
            except binascii.Error:
                defect = "undecodable uuencoded line"
    return b"".join(out), defect


_UU_NAMES = frozenset({"x-uuencode", "uuencode", "uue", "x-uue"})
_IDENTITY_NAMES = frozenset({"", "7bit", "8bit", "binary", "7-bit", "8-bit"})


def decode_transfer(raw: bytes, start: int, end: int, cte: str) -> tuple[bytes, str | None]:
    """Decode ``raw[start:end]`` per Content-Transfer-Encoding ``cte`` (lowercase, stripped)."""
    if cte in _IDENTITY_NAMES:
        return raw[start:end], None
    if cte == "base64":
        return _b64_body(raw, start, end)
    if cte == "quoted-printable":
        return binascii.a2b_qp(memoryview(raw)[start:end]), None
    if cte in _UU_NAMES:
        return _uu_decode(raw[start:end])
    return raw[start:end], f"unknown Content-Transfer-Encoding {short(cte)}, kept as is"
