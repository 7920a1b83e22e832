"""Parsing of IMAP answers as servers really spell them, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inboxbridge.mailserver.imap import ImapError, quote
from inboxbridge.mailserver.imap_parse import (
    RemoteFolder,
    decode_mutf7,
    encode_mutf7,
    fetched_message,
    imap_date,
    parse_internaldate,
    parse_list_item,
)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (b'(\\HasNoChildren) "/" INBOX', RemoteFolder("INBOX", "INBOX", "/", "\\Inbox", True)),
        (b'(\\HasNoChildren) "/" "inbox"', RemoteFolder("INBOX", "INBOX", "/", "\\Inbox", True)),
        (b'(\\HasNoChildren \\Sent) "/" "Sent Items"', RemoteFolder("Sent Items", "Sent Items", "/", "\\Sent", True)),
        (b'(\\Noselect \\HasChildren) "." "Public"', RemoteFolder("Public", "Public", ".", "", False)),
        (b'(\\HasNoChildren) NIL "Flat"', RemoteFolder("Flat", "Flat", "", "", True)),
        (b'(\\HasNoChildren \\Trash) "/" "Deleted Items"',
         RemoteFolder("Deleted Items", "Deleted Items", "/", "\\Trash", True)),
        (b'() "/" "Deleted Items"', RemoteFolder("Deleted Items", "Deleted Items", "/", "\\Trash", True)),
        (b'() "/" "Projects/Archive"', RemoteFolder("Projects/Archive", "Projects/Archive", "/", "", True)),
        (b'(\\HasNoChildren) "/" "Quote \\"this\\" \\\\ back"',
         RemoteFolder('Quote "this" \\ back', 'Quote "this" \\ back', "/", "", True)),
        (b'(\\HasNoChildren) "/" "Entw&APw-rfe"', RemoteFolder("Entw&APw-rfe", "Entwürfe", "/", "", True)),
        ((b'(\\HasNoChildren) "/" {11}', b"odd\r\nname x"),
         RemoteFolder("odd\r\nname x", "odd\r\nname x", "/", "", True)),
        (b'(\\HasNoChildren \\Junk) "\\\\" "Spam"', RemoteFolder("Spam", "Spam", "\\", "\\Junk", True)),
    ],
)
def test_list_items(item: object, expected: RemoteFolder) -> None:
    assert parse_list_item(item) == expected


def test_unparseable_list_items_are_skipped() -> None:
    assert parse_list_item(None) is None
    assert parse_list_item(b"garbage") is None


@pytest.mark.parametrize(
    ("encoded", "text"),
    [
        ("INBOX", "INBOX"),
        ("Entw&APw-rfe", "Entwürfe"),
        ("&ZeVnLIqe-", "日本語"),
        ("Tom &- Jerry", "Tom & Jerry"),
        ("&U,BTFw-", "台北"),
        ("Gr&APw-&AN8-e", "Grüße"),
    ],
)
def test_modified_utf7(encoded: str, text: str) -> None:
    assert decode_mutf7(encoded) == text
    assert decode_mutf7(encode_mutf7(text)) == text


def test_broken_modified_utf7_is_kept() -> None:
    assert decode_mutf7("&&&-") == "&&&-"
    assert decode_mutf7("unterminated &AAA") == "unterminated &AAA"


@given(st.text(min_size=0, max_size=30))
def test_modified_utf7_round_trip(text: str) -> None:
    encoded = encode_mutf7(text)
    assert encoded.isascii()
    assert decode_mutf7(encoded) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("17-Jul-1996 02:44:25 -0700", datetime(1996, 7, 17, 9, 44, 25, tzinfo=UTC)),
        (" 7-Jan-2024 23:00:00 +0530", datetime(2024, 1, 7, 17, 30, tzinfo=UTC)),
        ("01-Feb-2025 00:00:00 +0000", datetime(2025, 2, 1, tzinfo=UTC)),
    ],
)
def test_internaldate(value: str, expected: datetime) -> None:
    assert parse_internaldate(value) == expected


@pytest.mark.parametrize("value", ["", "yesterday", "32-Foo-2024 00:00:00 +0000", "01-Jan-2024 25:00"])
def test_bad_internaldate(value: str) -> None:
    assert parse_internaldate(value) is None


def test_imap_date() -> None:
    assert imap_date(date(2026, 3, 4)) == "4-Mar-2026"


def test_fetch_items_in_any_order() -> None:
    head = b'* 12 FETCH (FLAGS (\\Seen $Label1) RFC822.SIZE 5 INTERNALDATE "17-Jul-1996 02:44:25 -0700" BODY[] {5}\r\n'
    message = fetched_message(head + b" UID 345)\r\n", b"hello")
    assert message is not None
    assert (message.uid, message.flags, message.size, message.raw) == (345, ("\\Seen", "$Label1"), 5, b"hello")
    assert message.internaldate == datetime(1996, 7, 17, 2, 44, 25, tzinfo=timezone(timedelta(hours=-7)))


def test_fetch_item_without_uid_is_ignored() -> None:
    assert fetched_message(b"* 3 FETCH (FLAGS () BODY[] {1}\r\n)\r\n", b"x") is None


def test_quote() -> None:
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    with pytest.raises(ImapError):
        quote("line\nbreak")
