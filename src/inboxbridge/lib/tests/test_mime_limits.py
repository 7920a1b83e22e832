"""The MIME parser's bounds: parts per message, body size, and header parsing that stays linear on
hostile header values. A cut message says so in its defects (shown on the message page) and is
marked truncated."""

from __future__ import annotations

import time
from collections.abc import Callable

from inboxbridge.lib.mime import DEFAULT_MAX_PARTS, parse_message
from inboxbridge.lib.mime_headers import parse_addresses, parse_structured

BOUND_SECONDS = 0.5


def _within_bound(call: Callable[[], object]) -> None:
    start = time.perf_counter()
    call()
    took = time.perf_counter() - start
    assert took < BOUND_SECONDS, f"took {took:.2f} s"


def _multipart(*parts: bytes, boundary: bytes = b"b") -> bytes:
    body = b"".join(b"--" + boundary + b"\n" + part + b"\n" for part in parts)
    head = b"Subject: s\nContent-Type: multipart/mixed; boundary=" + boundary + b"\n\n"
    return head + body + b"--" + boundary + b"--\n"


def _attachment(i: int) -> bytes:
    return f'Content-Type: application/pdf; name="{i}.pdf"\n\n%PDF {i}'.encode()


def test_parts_past_the_limit_are_not_read_and_the_email_says_so():
    parsed = parse_message(_multipart(b"Content-Type: text/plain\n\nhello", *map(_attachment, range(10))), max_parts=4)
    assert parsed.text == "hello"
    assert [a.filename for a in parsed.attachments] == ["0.pdf", "1.pdf", "2.pdf"]
    assert parsed.truncated
    assert parsed.defects == ["more than 4 body parts; the rest were not read"]


def test_parts_of_nested_multiparts_count_too():
    inner = _multipart(*map(_attachment, range(5)), boundary=b"inner").split(b"\n", 1)[1]
    parsed = parse_message(_multipart(inner, inner, inner), max_parts=8)
    # The first inner multipart and its 5 parts, the second and its first part: 8 parts, 6 attachments.
    assert len(parsed.attachments) == 6
    assert parsed.truncated and parsed.defects == ["more than 8 body parts; the rest were not read"]


def test_a_message_of_millions_of_empty_parts_is_quick():
    raw = b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\nContent-Type: image/png\n\nx\n" * 200_000
    _within_bound(lambda: parse_message(raw))
    parsed = parse_message(raw)
    assert len(parsed.attachments) == DEFAULT_MAX_PARTS and parsed.truncated


def test_ordinary_mail_is_not_cut():
    parsed = parse_message(_multipart(b"Content-Type: text/plain\n\nhello", *map(_attachment, range(3))))
    assert not parsed.truncated and not parsed.defects and len(parsed.attachments) == 3


def test_bodies_over_the_limit_are_cut_at_a_character_and_the_email_says_so():
    text = ("é" * 999 + "\n").encode()  # 1,999 bytes of UTF-8
    html = b"<p>" + b"x" * 3000 + b"</p>"
    raw = (b"Subject: s\nContent-Type: multipart/alternative; boundary=b\n\n"
           b"--b\nContent-Type: text/plain; charset=utf-8\n\n" + text + b"\n"
           b"--b\nContent-Type: text/html\n\n" + html + b"\n--b--\n")
    parsed = parse_message(raw, max_body_bytes=1001)
    assert parsed.text == "é" * 500  # 1,000 bytes: the 501st character would not fit whole
    assert parsed.html == "<p>" + "x" * 998
    assert parsed.truncated
    assert parsed.defects == [
        "the text body is over 1001 bytes; only its beginning was kept",
        "the HTML body is over 1001 bytes; only its beginning was kept",
    ]
    whole = parse_message(raw, max_body_bytes=4000)
    assert not whole.truncated and not whole.defects and whole.text == text.decode()


def test_a_content_type_with_a_long_run_of_blanks_is_quick():
    value = "text/plain; charset=utf-8" + " " * 20_000 + "x"
    _within_bound(lambda: parse_structured(value))
    assert parse_structured(value)[0] == "text/plain"
    raw = f"Subject: s\nContent-Type: {value}\n\nbody".encode()
    _within_bound(lambda: parse_message(raw))


def test_a_long_address_list_is_quick():
    value = "a@example.org, " * 100_000
    _within_bound(lambda: parse_addresses(value))
    assert len(parse_addresses(value)) == 100_000
