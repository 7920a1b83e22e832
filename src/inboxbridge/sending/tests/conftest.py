"""Fixtures of the sending tests: fake servers for the outbox's own logic, and a mailbox they
answer for."""

from __future__ import annotations

from typing import Any

import pytest
from tests.factories import make_mailbox

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.tests.helpers import FakeServers


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> FakeServers:
    from inboxbridge.mailserver import imap, smtp
    from inboxbridge.sending import delivery

    fake = FakeServers()
    monkeypatch.setattr(delivery, "smtp_login", fake.login)
    monkeypatch.setattr(delivery, "imap_login", fake.login)
    monkeypatch.setattr(smtp, "send", fake.send)
    monkeypatch.setattr(imap, "append_message", fake.append)
    return fake


@pytest.fixture
def other_mailbox(django_user_model: Any) -> Mailbox:
    """A user with a password ("Other") mailbox; the fake servers answer for it."""
    return make_mailbox(django_user_model.objects.create_user("writer", "writer@example.test", "writer-password-1"))


@pytest.fixture
def writer(client: Any, other_mailbox: Mailbox) -> Any:
    """The test client, signed in as the owner of `other_mailbox`."""
    client.force_login(other_mailbox.owner)
    return client
