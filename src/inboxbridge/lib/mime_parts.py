"""Body-part structure for the fast MIME parser: delimiter search and MIME fields."""

from __future__ import annotations

from .mime_headers import parse_msgid


def split_parts(
    raw: bytes, start: int, end: int, boundary: bytes, limit: int | None = None
) -> tuple[list[tuple[int, int]], bool] | None:
    """Find the body parts of a multipart entity in ``raw[start:end]``.

    Returns ([(part_start, part_end)], closed) or None when no delimiter line exists.
    The line break before a delimiter belongs to the delimiter (RFC 2046 5.1.1).
    The search stops after ``limit`` parts (a hostile message can hold millions of empty parts;
    their list alone would take gigabytes); ``closed`` is then True.
    """
    delim = b"--" + boundary
    nl_delim = b"\n" + delim
    dlen = len(delim)
    if raw.startswith(delim, start, end):
        pos = start
    else:
        pos = raw.find(nl_delim, start, end)
        pos = pos + 1 if pos != -1 else -1
    parts: list[tuple[int, int]] = []
    content_start = -1
    found = False
    while pos != -1:
        j = pos + dlen
        is_close = raw.startswith(b"--", j, end)
        k = j + 2 if is_close else j
        while k < end and raw[k] in b" \t":
            k += 1
        if k >= end:
            line_end = end
        elif raw[k] == 10:
            line_end = k + 1
        elif raw[k] == 13 and (k + 1 >= end or raw[k + 1] == 10):
            line_end = min(k + 2, end)
        else:
            # "--boundary" followed by other text is content, not a delimiter.
            nxt = raw.find(nl_delim, pos, end)
            pos = nxt + 1 if nxt != -1 else -1
            continue
        found = True
        if content_start >= 0:
            content_end = pos - 1
            if content_end > content_start and raw[content_end - 1] == 13:
                content_end -= 1
            parts.append((content_start, max(content_end, content_start)))
            if limit is not None and len(parts) >= limit:
                return parts, True
        if is_close:
            return parts, True
        content_start = line_end
        if line_end >= end:
            break
        nxt = raw.find(nl_delim, line_end - 1, end)
        pos = nxt + 1 if nxt != -1 else -1
    if not found:
        return None
    parts.append((content_start, end))
    return parts, False


def mime_fields(fields: list[tuple[str, str]]) -> tuple[str | None, str | None, str, str]:
    """(Content-Type, Content-Disposition, lowercased transfer encoding, Content-ID without <>)."""
    ctype = disp = None
    cte = cid = ""
    seen = 0
    for name, value in fields:
        # Cheap reject first: the top-level block has many fields, few Content-*.
        if name[7:8] != "-" or len(name) < 10 or name[:8].lower() != "content-":
            continue
        key = name[8:].lower()
        if key == "type" and ctype is None:
            ctype = value
        elif key == "disposition" and disp is None:
            disp = value
        elif key == "transfer-encoding" and not seen & 1:
            seen |= 1
            tokens = value.lower().replace('"', " ").split()
            cte = tokens[0] if tokens else ""
        elif key == "id" and not seen & 2:
            seen |= 2
            cid = parse_msgid(value)
    return ctype, disp, cte, cid
