"""A message's original bytes from real Dovecot: byte for byte what the server keeps, read without
marking it \\Seen, and a clear "gone" when its UID, its folder or the folder's UIDVALIDITY is not
what the sync recorded. From a hostile server, an original announced over the size limit is never
read."""

from __future__ import annotations

import re
import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from inboxbridge.mailserver.imap import ImapSession
from inboxbridge.mailserver.imap_original import MessageGone, MessageTooLarge, fetch_original, original_message
from inboxbridge.mailserver.login import ServerLogin
from inboxbridge.mailserver.tests.fake_imap import FakeImapServer, Login, flood, message


@pytest.fixture
def account(mail_stack: Any, settings: Any, identity: Any) -> tuple[str, ServerLogin]:
    settings.CA_BUNDLE = str(identity.ca_file)
    address = f"orig-{uuid.uuid4().hex[:8]}@{mail_stack.domain}"
    password = mail_stack.add_user(address)
    return address, ServerLogin(mail_stack.host, mail_stack.imaps_port, "ssl", address, "PLAIN", password)


def delivered(mail_stack: Any, address: str) -> tuple[int, int, bytes, str]:
    """Deliver a message with 8-bit text through Postfix: (UIDVALIDITY, UID, the bytes Dovecot
    serves for it, its flags), read directly over IMAP."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Zoë <zoe@elsewhere.test>", address, "Grüße"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@elsewhere.test>"
    message.set_content("Schöne Grüße,\nZoë\n", cte="8bit")
    message.add_attachment(b"\x00\x01 binary \xff" * 300, "application", "octet-stream", filename="data.bin")
    mail_stack.deliver(message, to=address)
    client = mail_stack.imap(address)
    try:
        client.select("INBOX", readonly=True)
        uidvalidity = int(client.response("UIDVALIDITY")[1][-1])
        _typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
    finally:
        client.logout()
    head, raw = next(item for item in data if isinstance(item, tuple))
    uid = int(re.search(rb"UID (\d+)", head)[1])  # type: ignore[index]
    flags = re.search(rb"FLAGS \(([^)]*)\)", head)[1].decode()  # type: ignore[index]
    return uidvalidity, uid, raw, flags


def flags_now(mail_stack: Any, address: str, uid: int) -> str:
    client = mail_stack.imap(address)
    try:
        client.select("INBOX", readonly=True)
        _typ, data = client.uid("FETCH", str(uid), "(FLAGS)")
    finally:
        client.logout()
    return re.search(rb"FLAGS \(([^)]*)\)", data[0])[1].decode()  # type: ignore[index]


@pytest.mark.mailserver
def test_the_original_is_byte_equal_to_what_dovecot_keeps_and_stays_unread(mail_stack, account):
    address, login = account
    uidvalidity, uid, raw, flags = delivered(mail_stack, address)
    assert "\\Seen" not in flags

    assert original_message(login, "INBOX", uid, uidvalidity=uidvalidity) == raw
    assert b"Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9fe" in raw  # the 8-bit text came through as it is
    assert "\\Seen" not in flags_now(mail_stack, address, uid)


@pytest.mark.mailserver
def test_a_message_the_server_no_longer_has_under_that_uid_folder_or_uidvalidity_is_gone(mail_stack, account):
    address, login = account
    uidvalidity, uid, _raw, _flags = delivered(mail_stack, address)
    cases = {
        "expunged or moved": ("INBOX", uid + 1000, uidvalidity),
        "UIDs renumbered": ("INBOX", uid, uidvalidity + 1),
        "folder deleted": ("Projects/Gone", uid, uidvalidity),
    }
    for case, (folder, wanted, validity) in cases.items():
        with pytest.raises(MessageGone) as caught:
            original_message(login, folder, wanted, uidvalidity=validity)
        assert caught.value.message, case
        assert login.secret not in caught.value.message, case


@pytest.mark.mailserver
def test_a_message_over_the_size_limit_is_refused_without_reading_it(mail_stack, account):
    address, login = account
    uidvalidity, uid, raw, _flags = delivered(mail_stack, address)
    with ImapSession(login, max_message_size=1000) as session, pytest.raises(MessageTooLarge) as caught:
        fetch_original(session, "INBOX", uid, uidvalidity=uidvalidity)
    assert "over the limit of 1,000 bytes" in caught.value.message
    assert len(raw) > 1000


def test_a_server_announcing_a_huge_original_is_hung_up_on_without_reading_it(settings):
    settings.IMAP_MAX_LITERAL_BYTES = 1024 * 1024
    huge = 99_999_999_999
    hostile = flood(b"* 1 FETCH (UID 4 FLAGS () RFC822.SIZE %d BODY[]<0> {%d}\r\n" % (huge, huge))
    with FakeImapServer({4: b""}, hostile_fetch={4: hostile}) as server:
        with pytest.raises(MessageTooLarge) as caught:
            original_message(Login("localhost", server.port, "none"), "INBOX", 4, uidvalidity=7)
        assert "over the limit of 1.0 MB" in caught.value.message
        assert b"EXAMINE" in b"".join(server.ended(0).commands)
        assert server.ended(0).hung_up and server.ended(0).sent < 16 * 1024 * 1024


def test_an_honest_fake_server_gives_the_message_and_was_asked_read_only():
    original = message("Minutes")
    with FakeImapServer({4: original}) as server:
        assert original_message(Login("localhost", server.port, "none"), "INBOX", 4, uidvalidity=7) == original
        commands = b"".join(server.ended(0).commands)
    assert b'EXAMINE "INBOX"' in commands and b"SELECT" not in commands and b"BODY.PEEK[]" in commands
