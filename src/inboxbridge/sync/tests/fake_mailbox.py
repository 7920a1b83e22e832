"""An Office 365 mailbox whose IMAP server is a `FakeImapServer` (over TLS, as Office 365's), with
an access token of the test's choosing, and the log lines the service itself writes."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inboxbridge.lib.redact import RedactSecretsFilter
from inboxbridge.mailboxes.actions import update_folders
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailserver.tests.fake_imap import FakeImapServer, server_contexts

MakeMailbox = Callable[..., tuple[FakeImapServer, Mailbox]]


@pytest.fixture
def fake_office365(enabled_microsoft: Any, test_ca: Any, settings: Any, monkeypatch: pytest.MonkeyPatch,
                   django_user_model: Any) -> Iterator[MakeMailbox]:
    """Factory: (server, mailbox) for a FakeImapServer started with the given arguments; the
    mailbox's access tokens are `tokens` in turn (a forced refresh takes the next one)."""
    servers: list[FakeImapServer] = []
    server_tls, _client_tls = server_contexts(test_ca)  # test_ca also signed the CA_BUNDLE's stand-in

    def make(messages: dict[int, bytes], *, tokens: tuple[str, ...] = ("opaque-access-token",),
             **kwargs: Any) -> tuple[FakeImapServer, Mailbox]:
        server = FakeImapServer(messages, tls=server_tls, **kwargs)
        servers.append(server)
        settings.MICROSOFT_IMAP_HOST, settings.MICROSOFT_IMAP_PORT = "localhost", server.port
        handed_out = iter(tokens)
        current = [next(handed_out)]

        def access_token_for(mailbox: Mailbox, *, force_refresh: bool = False) -> str:
            if force_refresh:
                current[0] = next(handed_out, current[0])
            return current[0]

        monkeypatch.setattr("inboxbridge.mailboxes.tokens.access_token_for", access_token_for)
        owner = django_user_model.objects.create_user(f"owner{len(servers)}", "owner@example.test", "pw-x1y2z3")
        mailbox = Mailbox.objects.create(owner=owner, email_address="user@example.test",
                                         account_type=Mailbox.AccountType.OFFICE365)
        update_folders(mailbox, [("INBOX", "INBOX", "/", "\\Inbox")])
        Folder.objects.filter(mailbox=mailbox).update(selected=True)
        return server, mailbox

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def service_log() -> Iterator[io.StringIO]:
    """What the service's own log handlers write (those of settings.LOGGING, with their filters),
    unlike pytest's caplog, which sees every record before any filter."""
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h, logging.StreamHandler) and any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    assert handlers, "settings.LOGGING has no redacting handler"
    output = io.StringIO()
    # Not setStream(): it flushes the stream it replaces, which an earlier test's capture may have closed.
    previous = [handler.stream for handler in handlers]
    for handler in handlers:
        handler.stream = output
    yield output
    for handler, stream in zip(handlers, previous, strict=True):
        handler.stream = stream
