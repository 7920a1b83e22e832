"""Fixtures of the sync tests: a connected Office 365 mailbox on the local Dovecot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.tests.helpers import SyncCase, select_folders


@pytest.fixture
def sync_case(connect_office365_mailbox: Callable[..., Mailbox], mail_stack: Any) -> Any:
    """A connected Office 365 mailbox with its INBOX selected, and an IMAP client on it."""
    mailbox = connect_office365_mailbox()
    client = mail_stack.imap(mailbox.email_address)
    client.sock.settimeout(20)  # a broken exchange fails the test instead of hanging it
    select_folders(mailbox, "INBOX")
    yield SyncCase(mailbox, mailbox.email_address, client)
    try:
        client.logout()
    except Exception:
        pass
