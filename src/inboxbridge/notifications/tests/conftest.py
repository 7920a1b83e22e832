"""Fixtures of the notifications tests: tasks run inline, and a system mailbox on the test stack
that sends the application's email."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from tests.factories import make_mailbox

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.notifications.tests.helpers import connect_system_office365


@pytest.fixture(autouse=True)
def inline_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.BASE_URL = "https://inboxbridge.example.test"


@pytest.fixture
def office365_sender(client: Any, admin_user: Any, enabled_microsoft: Any, mail_settings: Any, identity: Any,
                     settings: Any) -> Mailbox:
    """An Office 365 system mailbox connected as its own account, sending the application's email."""
    mailbox = connect_system_office365(client, admin_user, mail_settings, identity)
    settings.EMAIL_BACKEND = "inboxbridge.sending.email_backend.SystemMailboxEmailBackend"
    settings.APPLICATION_EMAIL_MAILBOX = mailbox.email_address
    return mailbox


@pytest.fixture
def other_system_mailbox(mail_stack: Any, identity: Any, settings: Any) -> Mailbox:
    """A system mailbox of account type Other (a password) on the stack's Dovecot and Postfix."""
    settings.CA_BUNDLE = str(identity.ca_file)
    address = f"notices-{uuid.uuid4().hex[:6]}@{mail_stack.domain}"
    password = mail_stack.add_user(address)
    return make_mailbox(None, folders=(), label="Notices", email_address=address, username=address,
                        password=password, imap_host=mail_stack.host, imap_port=mail_stack.imaps_port,
                        smtp_host=mail_stack.host, smtp_port=mail_stack.submission_port, smtp_security="starttls")

