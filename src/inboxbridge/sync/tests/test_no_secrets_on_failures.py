"""A sync or a send that fails with an opaque (non-JWT) token in play writes the token nowhere: not
in the service's log, not in an error text, not on the mailbox, even when the server or a library
echoes it back."""

from __future__ import annotations

import base64
import logging
import socket
import threading

import pytest

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver import smtp
from inboxbridge.mailserver.imap import ImapSession
from inboxbridge.mailserver.tests.fake_imap import Login, message
from inboxbridge.sync.engine import sync_mailbox
from inboxbridge.sync.tests import fake_mailbox

pytestmark = pytest.mark.django_db(transaction=True)
fake_office365, service_log = fake_mailbox.fake_office365, fake_mailbox.service_log

# Opaque tokens: a Microsoft consumer access token's shape, and one of no known shape.
ACCESS = "EwBwA8l6BAAUbR3xZq9Kp2LmN7sTuV4wXyZ0aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abcdefghAA=="
FRESH = "opaque-Fresh-Access-Token-0123456789"
REFRESH = "M.C507_BAY.0.U.-Cq7zUtB3x!JkLm*NoPq$RsTuVwXy9z8A7b6C5d4E3f2"


def echo(credential: bytes) -> bytes:
    """A server that repeats what it was sent in its refusal, decoded and encoded."""
    return b"invalid credential " + credential + b" (" + base64.b64encode(credential) + b")"


def assert_nothing_secret(*texts: str) -> None:
    everything = "\n".join(texts)
    for token in (ACCESS, FRESH, REFRESH):
        xoauth2 = base64.b64encode(f"user=user@example.test\x01auth=Bearer {token}\x01\x01".encode()).decode()
        assert token not in everything and xoauth2 not in everything


def test_a_refused_xoauth2_login_logs_no_token(fake_office365, service_log, caplog):
    caplog.set_level(logging.DEBUG)
    server, mailbox = fake_office365({1: message("first")}, tokens=(ACCESS, FRESH), refuse_login=echo)

    result = sync_mailbox(mailbox.pk)

    credentials = [c for connection in server.connections for c in connection.credentials]
    # Refused, refreshed, refused again.
    assert [c.split(b"\x01")[1] for c in credentials] == [b"auth=Bearer " + t.encode() for t in (ACCESS, FRESH)]
    assert "The IMAP server refused the login of user@example.test" in result.error
    saved = Mailbox.objects.get(pk=mailbox.pk)
    assert_nothing_secret(result.error, saved.last_error, service_log.getvalue(), caplog.text)
    assert "refused the login" in service_log.getvalue()  # the log does say what went wrong


def test_an_exception_carrying_a_token_is_masked_in_the_log_and_on_the_mailbox(fake_office365, service_log,
                                                                              monkeypatch):
    _server, mailbox = fake_office365({1: message("first")}, tokens=(ACCESS,))

    def failing_library(self: ImapSession) -> None:
        raise RuntimeError(f"request failed: Authorization: Bearer {ACCESS}; body refresh_token={REFRESH}")

    monkeypatch.setattr(ImapSession, "list_folders", failing_library)
    result = sync_mailbox(mailbox.pk)

    assert result.error.startswith("Unexpected error (RuntimeError): request failed")
    log = service_log.getvalue()
    assert "sync failed" in log and "Traceback" in log and "RuntimeError" in log
    assert_nothing_secret(result.error, Mailbox.objects.get(pk=mailbox.pk).last_error, log)


def test_a_refused_smtp_login_echoing_the_token_is_masked():
    listener = socket.create_server(("127.0.0.1", 0))

    def fake_smtp() -> None:
        connection, _ = listener.accept()
        with connection, connection.makefile("rb") as reader:
            connection.sendall(b"220 fake ESMTP\r\n")
            reader.readline()  # EHLO
            connection.sendall(b"250-fake\r\n250 AUTH XOAUTH2 PLAIN\r\n")
            reader.readline()  # AUTH XOAUTH2
            connection.sendall(b"334 \r\n")
            credential = base64.b64decode(reader.readline().strip())
            connection.sendall(b"535 5.7.3 Authentication unsuccessful: " + echo(credential) + b"\r\n")
            reader.readline()  # QUIT, or the end

    thread = threading.Thread(target=fake_smtp, daemon=True)
    thread.start()
    login = Login("127.0.0.1", listener.getsockname()[1], "none", mechanism="XOAUTH2", secret=ACCESS)
    with pytest.raises(smtp.SmtpError) as refused:
        smtp.check_login(login)  # type: ignore[arg-type]
    thread.join(timeout=10)
    listener.close()
    assert str(refused.value).startswith("Authentication failed: 535 5.7.3 Authentication unsuccessful")
    assert refused.value.auth_failed
    assert_nothing_secret(str(refused.value))
