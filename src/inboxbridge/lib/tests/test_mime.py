"""Tests of the fast MIME parser (pure library code: no database, no Django)."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.samples import require_sample_messages, sample_messages

from inboxbridge.lib.mime import (
    Address,
    ParsedMessage,
    decode_header_value,
    parse_message,
    synthetic_message_id,
)

# CPython's own email test messages (tests/samples.py); without them the corpus test below has no
# cases, and test_cpython_samples_are_installed fails (skips only with INBOXBRIDGE_TESTS_ALLOW_SKIP=1).
SAMPLES = sample_messages()


def msg(*lines: str | bytes, eol: bytes = b"\r\n") -> bytes:
    return eol.join(line.encode("utf-8") if isinstance(line, str) else line for line in lines)


def assert_sane(parsed: ParsedMessage) -> None:
    assert not [d for d in parsed.defects if "internal parser error" in d], parsed.defects
    for text in (parsed.text, parsed.html, parsed.subject):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates: storable in PostgreSQL
    for att in parsed.attachments:
        assert att.size >= 0 and len(att.sha256) == 64
        assert (att.data is None) == att.omitted
        if att.data is not None:
            assert hashlib.sha256(att.data).hexdigest() == att.sha256 and len(att.data) == att.size
        assert "/" not in att.filename and "\\" not in att.filename
        assert not any(ord(c) < 32 for c in att.filename)


# ---------------------------------------------------------------------------
# CPython's email test corpus, compared with the stdlib parser


def reference_attachments(message: Message) -> list[tuple[str, bytes | None]]:
    """The stdlib tree read with this module's rules.

    Deliberate differences from the stdlib's own tree, applied here:
    - any message/* part is one attachment (the stdlib parses message/rfc822,
      message/delivery-status and message/external-body into sub-messages; we keep
      the raw bytes and do not look inside), so no bytes are compared for them;
    - a multipart whose boundary never occurs becomes a str-payload leaf in the
      stdlib; we read its body as text, so it is no attachment;
    - text/plain and text/html parts are body unless Content-Disposition is attachment.
    """
    out: list[tuple[str, bytes | None]] = []

    def is_body(part: Message) -> bool:
        return part.get_content_type() in ("text/plain", "text/html") and (
            part.get_content_disposition() != "attachment"
        )

    def walk(part: Message) -> None:
        ctype = part.get_content_type()
        if part.get_content_maintype() == "message":
            out.append((ctype, None))
        elif part.is_multipart():
            for child in part.get_payload():
                walk(child)
        elif part.get_content_maintype() == "multipart" or is_body(part):
            return
        else:
            payload = part.get_payload(decode=True)
            out.append((ctype, payload if isinstance(payload, bytes) else None))

    walk(message)
    return out


def squash(text: str) -> str:
    return " ".join(text.split())


# Checks where the stdlib's result is not the one we want, by (file, check).
STDLIB_EXCEPTIONS = {
    # policy.default renders the empty addr-spec of "MAILER DAEMON <>" as '<>';
    # compat32 (and we) give ''.
    ("msg_43.txt", "from-default"): "policy.default keeps '<>' for an empty address",
}


def test_cpython_samples_are_installed() -> None:
    assert len(require_sample_messages()) > 40


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_cpython_email_corpus_matches_stdlib(path: Path) -> None:
    raw = path.read_bytes()
    parsed = parse_message(raw)
    assert_sane(parsed)
    old = email.message_from_bytes(raw, policy=email.policy.compat32)
    new = email.message_from_bytes(raw, policy=email.policy.default)

    # Subject: decoded like policy.default, and like compat32 + make_header.
    assert squash(parsed.subject) == squash(str(new["subject"] or ""))
    if old["subject"] is not None:
        assert squash(parsed.subject) == squash(str(make_header(decode_header(old["subject"]))))

    # From address.
    mine = parsed.sender.address if parsed.sender else None
    assert mine == (parseaddr(old["from"])[1] if old["from"] is not None else None)
    if (path.name, "from-default") not in STDLIB_EXCEPTIONS:
        header = new["from"]
        assert mine == (header.addresses[0].addr_spec if header is not None and header.addresses else None)

    # Message-ID and Date.
    for stdlib_msg in (old, new):
        assert parsed.message_id == str(stdlib_msg["message-id"] or "").strip().strip("<>")
    if old["date"] is not None:
        try:
            expected = parsedate_to_datetime(old["date"])
        except (TypeError, ValueError):
            expected = None
        if expected is not None and expected.tzinfo is None:
            expected = expected.replace(tzinfo=UTC)
        assert parsed.date == expected

    # Attachments: same number, types and decoded bytes as the stdlib tree.
    for stdlib_msg in (old, new):
        reference = reference_attachments(stdlib_msg)
        assert [a.content_type for a in parsed.attachments] == [ctype for ctype, _ in reference]
        for att, (_, data) in zip(parsed.attachments, reference, strict=True):
            if data is not None:
                assert att.data == data


def test_cpython_corpus_filenames_and_bodies_spot_checks() -> None:
    sample = {path.name: path for path in require_sample_messages()}
    fish = parse_message(sample["msg_07.txt"].read_bytes())
    assert fish.text == "Hi there,\n\nThis is the dingus fish.\n"
    assert [(a.filename, a.content_type, a.size) for a in fish.attachments] == [("dingusfish.gif", "image/gif", 3512)]

    digest = parse_message(sample["msg_28.txt"].read_bytes())  # multipart/digest: parts default to rfc822
    assert [(a.content_type, a.filename) for a in digest.attachments] == [("message/rfc822", "ee.eml")] * 2

    encodings = parse_message(sample["msg_10.txt"].read_bytes())  # 7bit, QP, base64 text parts
    assert "This is a Base64 encoded message." in encodings.text
    assert encodings.html.startswith("\u00a1This is a Quoted Printable encoded message!")

    rfc2231 = parse_message(sample["msg_33.txt"].read_bytes())  # boundary*= with a charset
    assert rfc2231.text == "part 1\npart 2\n"

    no_separator = parse_message(sample["msg_35.txt"].read_bytes())
    assert no_separator.subject == "here's something interesting"
    assert no_separator.text.startswith("counter to RFC 2822")
    assert any("blank line" in d for d in no_separator.defects)


# ---------------------------------------------------------------------------
# Headers


def test_rfc2047_subjects_and_names() -> None:
    raw = msg(
        "From: =?utf-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.de>",
        'To: =?iso-8859-1?q?Fran=E7ois?= <f@example.fr>, "Doe, Jane" <jane@example.com>, bob@example.com',
        "Cc: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>",
        "Subject: =?utf-8?q?Gr=C3=B6=C3=9Fe_der?=",
        " =?utf-8?b?UHLDpHNlbnRhdGlvbg==?= =?iso-8859-1?q?f=FCr?= Contoso",
        "Message-ID: <abc.1@example.de>",
        "",
        "body",
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Größe derPräsentationfür Contoso"
    assert parsed.sender == Address("Jürgen Müller", "jm@example.de")
    assert parsed.to == [
        Address("François", "f@example.fr"),
        Address("Doe, Jane", "jane@example.com"),
        Address("", "bob@example.com"),
    ]
    assert parsed.cc == [Address("Zoë", "zoe@example.org")]
    assert ("Subject", "Größe derPräsentationfür Contoso") in parsed.headers


def test_encoded_words_split_inside_a_multibyte_character_are_joined() -> None:
    # "€" (e2 82 ac) split over two words, as some encoders do at line length limits.
    assert decode_header_value("=?utf-8?q?price_=E2=82?= =?utf-8?q?=AC5?=") == "price €5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"Gr\xc3\xbc\xc3\x9fe", "Grüße"),  # raw UTF-8
        (b"Gr\xfc\xdfe", "Grüße"),  # raw latin-1
        ("=?x-unknown?q?caf=C3=A9?=", "café"),  # unknown charset: UTF-8 when valid
        ("=?x-unknown?q?caf=E9?=", "café"),  # ... else latin-1
        ("=?utf-8?b?!!!?=", ""),  # garbage base64
        ("=?utf-8?b?w6k?=", "é"),  # missing padding
        ("=?utf-8?q?unterminated", "=?utf-8?q?unterminated"),
        ("plain\r\n folded", "plain folded"),
        ("nul\x00byte", "nul\ufffdbyte"),
        ("Gr\udcfc\udcdfe", "Grüße"),  # compat32 surrogate escapes of latin-1 bytes
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ],
)
def test_decode_header_value_is_tolerant(value: str | bytes, expected: str) -> None:
    assert decode_header_value(value) == expected


def test_raw_8bit_headers() -> None:
    raw = msg(
        b"From: J\xc3\xbcrgen M\xc3\xbcller <jm@example.de>",
        b"Subject: Gr\xc3\xbc\xc3\x9fe aus M\xc3\xbcnchen",
        b"X-Legacy: caf\xe9",  # one latin-1 header must not spoil the UTF-8 ones
        b"",
        b"body",
    )
    parsed = parse_message(raw)
    assert parsed.subject == "Grüße aus München"
    assert parsed.sender == Address("Jürgen Müller", "jm@example.de")
    assert ("X-Legacy", "café") in parsed.headers


def test_ids_dates_and_address_lists() -> None:
    raw = msg(
        "From: a@example.com (Comment Name)",
        "To: undisclosed-recipients:;",
        "Cc: c1@example.com",
        "CC: c2@example.com",
        "Bcc: <hidden@example.com>",
        "Reply-To: Team <team@example.com>",
        "Message-ID:",
        " <  folded.id@example.com >",
        "In-Reply-To: Your message of Monday <parent@example.com>",
        "References: <root@example.com>",
        "\t<parent@example.com>",
        "Date: Fri, 4 May 2001 14:05:44 +0530 (IST)",
        "",
        "x",
    )
    parsed = parse_message(raw)
    assert parsed.sender == Address("Comment Name", "a@example.com")
    assert parsed.to == []
    assert [a.address for a in parsed.cc] == ["c1@example.com", "c2@example.com"]
    assert parsed.bcc == [Address("", "hidden@example.com")]
    assert parsed.reply_to == [Address("Team", "team@example.com")]
    assert parsed.message_id == "folded.id@example.com"
    assert parsed.in_reply_to == "parent@example.com"
    assert parsed.references == ["root@example.com", "parent@example.com"]
    assert parsed.date == datetime(2001, 5, 4, 14, 5, 44, tzinfo=timezone(timedelta(hours=5, minutes=30)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 01 Jan 2023 03:54:52 -0500", datetime(2023, 1, 1, 8, 54, 52, tzinfo=UTC)),
        ("01 Jan 2001 00:01+0000", datetime(2001, 1, 1, 0, 1, tzinfo=UTC)),
        ("Tue, 11 Sep 2001 00:05:05 EDT", datetime(2001, 9, 11, 4, 5, 5, tzinfo=UTC)),
        ("Tue, 11 Sep 2001 00:05:05", datetime(2001, 9, 11, 0, 5, 5, tzinfo=UTC)),  # no zone: UTC
        ("Tue, 11 Sep 2001 00:05:05 -0000", datetime(2001, 9, 11, 0, 5, 5, tzinfo=UTC)),
        ("Sat, 31 Dec 2016 23:59:60 +0000", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),  # leap second
    ],
)
def test_dates_are_timezone_aware(value: str, expected: datetime) -> None:
    parsed = parse_message(msg(f"Date: {value}", "", ""))
    assert parsed.date == expected and parsed.date is not None and parsed.date.tzinfo is not None


@pytest.mark.parametrize("value", ["yesterday", "Fri, 31 Feb 2001 10:00:00 +0000", "Mon, 1 Jan 99999 00:00 +9999"])
def test_unparseable_dates_are_none_with_a_defect(value: str) -> None:
    parsed = parse_message(msg(f"Date: {value}", "", ""))
    assert parsed.date is None
    assert any("Date" in d for d in parsed.defects)


# ---------------------------------------------------------------------------
# Structure and bodies


def test_nested_mixed_alternative_related_with_cid_image() -> None:
    png = bytes(range(256)) * 40
    pdf = b"%PDF-1.4\n" + bytes(1000)
    raw = msg(
        "From: a@example.com",
        "Subject: nested",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="outer"',
        "",
        "preamble is ignored",
        "--outer",
        'Content-Type: multipart/alternative; boundary="alt"',
        "",
        "--alt",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Hallo Gr=C3=BC=",
        "=C3=9Fe",
        "--alt",
        'Content-Type: multipart/related; boundary="rel"; type="text/html"',
        "",
        "--rel",
        "Content-Type: text/html; charset=utf-8",
        "",
        '<p>Hallo <img src="cid:logo@x"></p>',
        "--rel",
        'Content-Type: image/png; name="logo.png"',
        "Content-ID: <logo@x>",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(png).decode().rstrip("\n").replace("\n", "\r\n"),
        "--rel--",
        "--alt--",
        "--outer",
        'Content-Type: application/pdf; name="report.pdf"',
        'Content-Disposition: attachment; filename="report.pdf"',
        "Content-Transfer-Encoding: base64",
        "",
        base64.b64encode(pdf).decode(),
        "--outer--",
        "epilogue is ignored",
    )
    parsed = parse_message(raw)
    assert_sane(parsed)
    assert parsed.text == "Hallo Grüße"
    assert parsed.html == '<p>Hallo <img src="cid:logo@x"></p>'
    logo, report = parsed.attachments
    assert (logo.filename, logo.content_type, logo.content_id, logo.inline) == ("logo.png", "image/png", "logo@x", True)
    assert logo.data == png
    assert (report.filename, report.content_type, report.inline, report.data) == (
        "report.pdf",
        "application/pdf",
        False,
        pdf,
    )
    assert parsed.defects == []


def test_alternative_prefers_html_for_html_and_plain_for_text_and_calendar_is_an_attachment() -> None:
    raw = msg(
        'Content-Type: multipart/alternative; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "plain version",
        "--b",
        "Content-Type: text/html",
        "",
        "<b>html version</b>",
        "--b",
        "Content-Type: text/calendar; method=REQUEST; charset=utf-8",
        "",
        "BEGIN:VCALENDAR",
        "END:VCALENDAR",
        "--b--",
    )
    parsed = parse_message(raw)
    assert parsed.text == "plain version"
    assert parsed.html == "<b>html version</b>"
    assert [(a.content_type, a.data) for a in parsed.attachments] == [
        ("text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR")
    ]


def test_text_parts_with_attachment_disposition_are_attachments() -> None:
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "the body",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Disposition: attachment; filename=notes.txt",
        "",
        "attached notes",
        "--b",
        "Content-Type: text/html",
        "Content-Disposition: attachment; filename=page.html",
        "",
        "<p>attached page</p>",
        "--b--",
    )
    parsed = parse_message(raw)
    assert parsed.text == "the body" and parsed.html == ""
    assert [(a.filename, a.data) for a in parsed.attachments] == [
        ("notes.txt", b"attached notes"),
        ("page.html", b"<p>attached page</p>"),
    ]


def test_inline_is_also_set_for_parts_referenced_by_cid_outside_related() -> None:
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/html",
        "",
        '<img src="cid:pic1">',
        "--b",
        "Content-Type: image/gif",
        "Content-ID: <pic1>",
        "",
        "GIF89a",
        "--b",
        "Content-Type: image/gif",
        "Content-ID: <unused>",
        "",
        "GIF89a",
        "--b--",
    )
    parsed = parse_message(raw)
    assert [(a.content_id, a.inline) for a in parsed.attachments] == [("pic1", True), ("unused", False)]


def test_message_rfc822_attachment_is_kept_raw_and_named_from_its_subject() -> None:
    inner = msg(
        "From: inner@example.com",
        "Subject: =?utf-8?q?Quartalsbericht_Q3/2024?=",
        'Content-Type: multipart/mixed; boundary="inner"',
        "",
        "--inner",
        "Content-Type: text/plain",
        "",
        "inner text must not leak into the outer body",
        "--inner--",
    )
    raw = msg(
        "Subject: Fwd: report",
        'Content-Type: multipart/mixed; boundary="outer"',
        "",
        "--outer",
        "Content-Type: text/plain",
        "",
        "see attached",
        "--outer",
        "Content-Type: message/rfc822",
        "",
        inner,
        "--outer--",
    )
    parsed = parse_message(raw)
    assert parsed.text == "see attached"
    (att,) = parsed.attachments
    assert att.content_type == "message/rfc822"
    assert att.filename == "Quartalsbericht Q3_2024.eml"
    assert att.data == inner


def test_message_rfc822_without_subject_and_base64_encoded() -> None:
    inner = b"From: x@example.com\r\n\r\nhello\r\n"
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: message/rfc822",
        "Content-Transfer-Encoding: base64",
        "",
        base64.b64encode(inner).decode(),
        "--b--",
    )
    (att,) = parse_message(raw).attachments
    assert (att.filename, att.data) == ("message.eml", inner)


def test_missing_final_boundary() -> None:
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "first",
        "--b",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        "AAECAw==",
        "",
    )
    parsed = parse_message(raw)
    assert parsed.text == "first"
    assert parsed.attachments[0].data == b"\x00\x01\x02\x03"
    assert any("missing end boundary" in d for d in parsed.defects)


def test_boundary_never_found_reads_body_as_text() -> None:
    raw = msg('Content-Type: multipart/mixed; boundary="nope"', "", "just text", "")
    parsed = parse_message(raw)
    assert parsed.text == "just text\n"
    assert any("no delimiter" in d for d in parsed.defects)


def test_boundary_prefix_lines_are_content_and_transport_padding_is_allowed() -> None:
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b  ",
        "Content-Type: text/plain",
        "",
        "--bb is not a delimiter",
        "--b-- neither is this",
        "--b--\t",
    )
    parsed = parse_message(raw)
    assert parsed.text == "--bb is not a delimiter\n--b-- neither is this"
    assert parsed.defects == []


def test_base64_with_garbage_is_decoded_and_reported() -> None:
    payload = bytes(range(200))
    encoded = base64.encodebytes(payload).decode()
    garbled = encoded[:10] + "!*%" + encoded[10:40] + "\u00e9" + encoded[40:]
    raw = msg(
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        garbled,
    )
    parsed = parse_message(raw)
    assert parsed.attachments[0].data == payload
    assert any("base64" in d for d in parsed.defects)


def test_base64_concatenated_after_padding_and_missing_padding() -> None:
    raw = msg(
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        "QUI=",  # "AB"
        "Q0Q",  # "CD" without its padding
    )
    parsed = parse_message(raw)
    assert parsed.attachments[0].data == b"ABCD"
    assert any("after padding" in d for d in parsed.defects)


def test_uuencode_and_8bit_and_unknown_transfer_encodings() -> None:
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        'Content-Type: application/octet-stream; name="x.bin"',
        "Content-Transfer-Encoding: x-uuencode",
        "",
        "begin 644 x.bin",
        "#86)C",
        "`",
        "end",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Grüße",
        "--b",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: x-rot13",
        "",
        "kept",
        "--b--",
    )
    parsed = parse_message(raw)
    assert [a.data for a in parsed.attachments] == [b"abc", b"kept"]
    assert parsed.text == "Grüße"
    assert any("x-rot13" in d for d in parsed.defects)


@pytest.mark.parametrize(
    ("charset", "body", "expected", "defect"),
    [
        ("x-foobar", "Grüße".encode(), "Grüße", "unknown charset"),
        ("x-foobar", "Grüße".encode("latin-1"), "Grüße", "unknown charset"),
        ("base64", b"plain", "plain", None),  # ASCII fast path: a bytes-to-bytes codec name is harmless
        ("base64", b"caf\xe9", "café", "unknown charset"),  # ... and is never used as a codec
        ("idna", b"caf\xe9", "café", "unknown charset"),
        ("utf-8", b"bad \xff byte", "bad \ufffd byte", "undecodable"),
        ("us-ascii", "naïve".encode(), "naïve", None),  # mislabelled UTF-8
        ("iso-8859-1", b"\x93quoted\x94 \x80", "\u201cquoted\u201d \u20ac", None),  # really windows-1252
        ("ks_c_5601-1987", "한국어".encode("cp949"), "한국어", None),
        ("gb2312", "中文".encode("gb18030"), "中文", None),
        ("iso-2022-jp", "日本語".encode("iso-2022-jp"), "日本語", None),
        ("shift_jis", b"\x82\xa0\x82", "あ\ufffd", "undecodable"),
        ("utf-7", b"+2AA-", "\ufffd", "surrogate"),
    ],
)
def test_charsets(charset: str, body: bytes, expected: str, defect: str | None) -> None:
    raw = msg(f'Content-Type: text/plain; charset="{charset}"', "", body)
    parsed = parse_message(raw)
    assert parsed.text == expected
    if defect is None:
        assert parsed.defects == []
    else:
        assert any(defect in d for d in parsed.defects), parsed.defects


def test_defects_quote_sender_text_briefly() -> None:
    label = "x" * 5000
    parsed = parse_message(msg(f'Content-Type: text/plain; charset="{label}"', f"Date: {label}", "", b"\xff"))
    assert len(parsed.defects) == 2
    assert all(len(d) < 200 for d in parsed.defects)


def test_nul_characters_never_reach_the_text() -> None:
    parsed = parse_message(msg("Subject: a\x00b", "", "x\x00y"))
    assert parsed.text == "x\ufffdy" and parsed.subject == "a\ufffdb"


# ---------------------------------------------------------------------------
# Attachment names and sizes


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("; filename*=UTF-8''%E2%82%AC%20rates.pdf", "€ rates.pdf"),
        ("; filename*0*=utf-8''Pr%C3%A4sen; filename*1*=tation%20; filename*2=final.pptx", "Präsentation final.pptx"),
        ("; filename*=iso-8859-1'de'Gr%FC%DFe.txt", "Grüße.txt"),
        ('; filename="=?utf-8?B?UHLDpHNlbnRhdGlvbi5wZGY=?="', "Präsentation.pdf"),  # Outlook style
        ("; filename=\"plain.pdf\"; filename*=utf-8''better.pdf", "better.pdf"),
        ('; filename="C:\\Users\\eve\\..\\report.pdf"', "report.pdf"),
        ('; filename="../../etc/passwd"', "passwd"),
        ('; filename="invoice\u202etxt.exe"', "invoicetxt.exe"),
        ('; filename="tab\there\x07.txt"', "tabhere.txt"),
        ('; filename=".."', ""),
        ("", ""),
    ],
)
def test_attachment_filenames(params: str, expected: str) -> None:
    raw = msg("Content-Type: application/octet-stream", f"Content-Disposition: attachment{params}", "", "data")
    (att,) = parse_message(raw).attachments
    assert att.filename == expected


def test_filename_from_content_type_name_and_length_cap() -> None:
    long_name = "x" * 400 + ".pdf"
    raw = msg(f'Content-Type: application/pdf; name="{long_name}"', "", "data")
    (att,) = parse_message(raw).attachments
    assert len(att.filename) == 255 and att.filename.endswith(".pdf")


def test_oversized_attachment_is_omitted_with_size_and_hash() -> None:
    payload = bytes(range(256)) * 100
    raw = msg(
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "big one attached",
        "--b",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(payload).decode(),
        "--b",
        "Content-Type: application/octet-stream",
        "",
        "small",
        "--b--",
    )
    parsed = parse_message(raw, max_attachment_size=1000)
    big, small = parsed.attachments
    assert (big.data, big.omitted, big.size) == (None, True, len(payload))
    assert big.sha256 == hashlib.sha256(payload).hexdigest()
    assert (small.data, small.omitted) == (b"small", False)
    assert parsed.truncated and parsed.text == "big one attached"
    assert not parse_message(raw).truncated


def test_stdlib_generated_message_round_trips() -> None:
    # The shape of the benchmark corpus: policy.default output, LF line endings.
    source = EmailMessage()
    source["From"] = "Jürgen Müller <jm@example.de>"
    source["To"] = "Perf Tester <perf@example.com>, Zoë <zoe@example.org>"
    source["Subject"] = "Réunion de l'équipe \u2013 12.03. \u2615"
    source["Message-ID"] = "<1234.5@example.de>"
    source["Date"] = "Sun, 01 Jan 2023 03:54:52 +0100"
    source.set_content("Grüße aus München\nzweite Zeile\n")
    source.add_alternative("<p>Grüße</p>\n", subtype="html")
    pdf = bytes(random.Random(1).randbytes(70_000))
    source.add_attachment(pdf, maintype="application", subtype="pdf", filename="Präsentation_1.pdf")
    source.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
    raw = source.as_bytes()

    parsed = parse_message(raw)
    assert_sane(parsed)
    assert parsed.defects == []
    assert parsed.subject == "Réunion de l'équipe \u2013 12.03. \u2615"
    assert parsed.sender == Address("Jürgen Müller", "jm@example.de")
    assert parsed.to == [Address("Perf Tester", "perf@example.com"), Address("Zoë", "zoe@example.org")]
    assert parsed.text == "Grüße aus München\nzweite Zeile\n"
    assert parsed.html == "<p>Grüße</p>\n"
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("Präsentation_1.pdf", "application/pdf", pdf),
        ("data.csv", "text/csv", b"a,b\n1,2\n"),
    ]
    assert parsed.date == datetime(2023, 1, 1, 2, 54, 52, tzinfo=UTC)


# ---------------------------------------------------------------------------
# Line endings, degenerate input, synthetic ids


def test_lf_crlf_and_mixed_line_endings_parse_the_same() -> None:
    lf = msg(
        "Subject: endings",
        'Content-Type: multipart/mixed; boundary="b"',
        "",
        "--b",
        "Content-Type: text/plain",
        "",
        "line one",
        "line two",
        "--b",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        "",
        "AAECAwQFBgcICQ==",
        "--b--",
        "",
        eol=b"\n",
    )
    crlf = lf.replace(b"\n", b"\r\n")
    mixed = crlf.replace(b"line one\r\n", b"line one\n", 1).replace(b"Subject: endings\r\n", b"Subject: endings\n")
    results = [parse_message(raw) for raw in (lf, crlf, mixed)]
    for parsed in results:
        assert parsed.subject == "endings"
        assert parsed.text == "line one\nline two"
        assert parsed.attachments[0].data == bytes(range(10))
        assert parsed.defects == []


def test_empty_input_and_only_headers_and_no_headers() -> None:
    empty = parse_message(b"")
    assert (empty.subject, empty.text, empty.attachments, empty.message_id) == ("", "", [], "")
    assert empty.defects

    only_headers = parse_message(b"Subject: hi\r\nFrom: a@example.com")
    assert only_headers.subject == "hi" and only_headers.text == "" and only_headers.sender is not None

    no_headers = parse_message(b"\r\njust a body\r\n")
    assert no_headers.text == "just a body\n" and no_headers.headers == []


def test_no_message_id_and_synthetic_id_is_stable() -> None:
    lines = ("From: a@example.com", "To: b@example.com", "Subject: no id", "Date: Mon, 1 Jan 2024 10:00:00 +0000")
    raw = msg(*lines, "", "body text", "")
    parsed = parse_message(raw)
    assert parsed.message_id == ""
    sid = synthetic_message_id(raw)
    assert re.fullmatch(r"[0-9a-f]{32}@synthetic\.inboxbridge", sid)
    assert synthetic_message_id(raw) == sid
    # Same message from another folder, or from a Maildir file with LF endings, or
    # with server-added trace headers: same id.
    assert synthetic_message_id(raw.replace(b"\r\n", b"\n")) == sid
    assert synthetic_message_id(b"X-Folder: Archive\r\nReceived: by mx\r\n" + raw) == sid
    # A different body or header value: a different id.
    assert synthetic_message_id(raw.replace(b"body text", b"other text")) != sid
    assert synthetic_message_id(raw.replace(b"no id", b"no id!")) != sid
    # No headers and no body still give an id, the same one in every release (stored ids must keep
    # matching) and whatever the line endings of the blank lines.
    empty = "acac5a24dfa559f3f91678eea2606f51@synthetic.inboxbridge"
    assert synthetic_message_id(b"") == synthetic_message_id(b"\r\n\r\n") == synthetic_message_id(b"\n") == empty


def test_deep_nesting_does_not_recurse_without_limit() -> None:
    depth = 300
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(depth))
    raw = head + b"Content-Type: text/plain\r\n\r\ndeep\r\n"
    parsed = parse_message(raw)
    assert_sane(parsed)
    assert any("too deep" in d for d in parsed.defects)


def test_input_types_are_coerced() -> None:
    raw = b"Subject: x\r\n\r\nbody"
    assert parse_message(bytearray(raw)).subject == "x"
    assert parse_message(memoryview(raw)).text == "body"  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Property tests: nothing raises, whatever the bytes

def _seed_messages() -> list[bytes]:
    seeds = [path.read_bytes() for path in SAMPLES]
    source = EmailMessage()
    source["Subject"] = "Grüße"
    source.set_content("plain")
    source.add_alternative("<p>html</p>", subtype="html")
    source.add_attachment(b"\x00\x01" * 300, maintype="application", subtype="pdf", filename="ä.pdf")
    seeds.append(source.as_bytes())
    seeds.append(source.as_bytes().replace(b"\n", b"\r\n"))
    return seeds


SEEDS = _seed_messages()
MUTATION_TOKENS = [b"\r\n", b"\n", b"--", b"=?utf-8?b?", b"?=", b";", b'"', b"=", b"\x00", b"\xff", b"*0*=", b"'"]


@st.composite
def mutated_messages(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        kind = draw(st.integers(0, 4))
        if kind == 0:
            del data[pos : pos + draw(st.integers(1, 64))]
        elif kind == 1:
            data[pos:pos] = draw(st.sampled_from(MUTATION_TOKENS))
        elif kind == 2:
            data[pos] = draw(st.integers(0, 255))
        elif kind == 3:
            end = pos + draw(st.integers(1, 200))
            data[pos:pos] = data[pos:end]  # duplicate a slice: repeated boundaries and headers
        else:
            del data[pos:]
    return bytes(data)


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_sane(parse_message(raw))
    synthetic_message_id(raw)


@PROPERTY_SETTINGS
@given(mutated_messages())
def test_mutated_real_messages_never_raise(raw: bytes) -> None:
    assert_sane(parse_message(raw, max_attachment_size=100))
    synthetic_message_id(raw)


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), st.binary()))
def test_decode_header_value_never_raises(value: str | bytes) -> None:
    decode_header_value(value).encode("utf-8")
