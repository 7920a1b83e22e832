"""The door connects to the addresses a login carries (those vetted), never to a new lookup of the
host's name, and still checks the server's certificate for that name, over IMAP and SMTP alike."""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from inboxbridge.mailserver import imap, smtp
from inboxbridge.mailserver.network import open_connection
from inboxbridge.mailserver.tests.fake_imap import FakeImapServer, Login, message

NAME = "mail.pinned.test"  # resolves nowhere: a connection that works went to the pinned address
PINNED = ("127.0.0.1",)


@pytest.fixture
def server_tls(test_ca: Any, tmp_path: Any, settings: Any) -> ssl.SSLContext:
    """A server context with a certificate for NAME; the client trusts its CA (INBOXBRIDGE_CA_BUNDLE)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert(NAME).configure_cert(context)
    bundle = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(bundle))
    settings.CA_BUNDLE = str(bundle)
    return context


@pytest.fixture
def smtp_server(server_tls: ssl.SSLContext) -> Iterator[tuple[int, list[bytes]]]:
    """An SMTP server over TLS from the first byte (port 465's way) that accepts any login: its
    port and the commands it received."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    answers = {b"EHLO": b"250-fake\r\n250 AUTH PLAIN\r\n", b"AUTH": b"235 2.7.0 Accepted\r\n", b"QUIT": b"221 Bye\r\n"}

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                with server_tls.wrap_socket(connection, server_side=True) as tls:
                    tls.sendall(b"220 fake ESMTP\r\n")
                    for line in iter(tls.makefile("rb").readline, b""):
                        received.append(line)
                        verb = line.split(b" ", 1)[0].strip().upper()
                        tls.sendall(answers.get(verb, b"250 OK\r\n"))
            except OSError:  # ssl.SSLError too: a client that refused our certificate
                connection.close()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], received
    listener.close()


def test_imap_goes_to_the_pinned_address_and_checks_the_certificate_for_the_name(server_tls):
    with FakeImapServer({1: message("first")}, tls=server_tls) as server:
        imap.check_login(Login(NAME, server.port, "ssl", addresses=PINNED), timeout=5)
        assert len(server.connections) == 1

        # The same server and address under a name its certificate does not carry: refused.
        with pytest.raises(imap.ImapError, match=re.escape(f"TLS certificate of other.pinned.test:{server.port} "
                                                           "not trusted")):
            imap.check_login(Login("other.pinned.test", server.port, "ssl", addresses=PINNED), timeout=5)


def test_smtp_goes_to_the_pinned_address_and_checks_the_certificate_for_the_name(smtp_server):
    port, received = smtp_server
    smtp.check_login(Login(NAME, port, "ssl", addresses=PINNED), timeout=5)
    assert any(line.startswith(b"AUTH PLAIN") for line in received)

    with pytest.raises(smtp.SmtpError, match=re.escape(f"TLS with other.pinned.test:{port} failed")):
        smtp.check_login(Login("other.pinned.test", port, "ssl", addresses=PINNED), timeout=5)


def test_without_a_pinned_address_the_name_is_looked_up(server_tls):
    with FakeImapServer({1: message("first")}, tls=server_tls) as server:
        with pytest.raises(imap.ImapError, match=re.escape(f"Could not connect to {NAME}:{server.port}")):
            imap.check_login(Login(NAME, server.port, "ssl"), timeout=5)
        assert not server.connections


def test_an_address_that_does_not_answer_is_passed_over_for_the_next_vetted_one():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # Nothing listens on ::1 at this port (or the host has no IPv6): the next address is tried.
    with open_connection(NAME, port, ("::1", "127.0.0.1"), 5) as connection:
        assert connection.getpeername()[:2] == ("127.0.0.1", port)
    listener.close()
