"""Helpers of the autoresponse tests: system mailboxes of account type Other on the test stack's
Dovecot and Postfix, their rules, and reading a recipient's INBOX over IMAP."""

from __future__ import annotations

import email
import email.policy
import uuid
from email.message import EmailMessage
from typing import Any

from tests.factories import make_mailbox

from inboxbridge.autoresponse import actions
from inboxbridge.autoresponse.models import Rule
from inboxbridge.jobs.runner import run_sync
from inboxbridge.mail.tests.helpers import raw_inbox
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.tests.helpers import select_folders

WAIT_SECONDS = 15


def system_mailbox(mail_stack: Any, label: str) -> Mailbox:
    """A system mailbox (account type Other) whose account lives on the stack, INBOX selected."""
    address = f"{label.lower().replace(' ', '-')}-{uuid.uuid4().hex[:6]}@{mail_stack.domain}"
    password = mail_stack.add_user(address)
    mailbox = make_mailbox(
        None, folders=(), label=label, email_address=address, username=address, password=password,
        imap_host=mail_stack.host, imap_port=mail_stack.imaps_port, imap_ssl=True,
        smtp_host=mail_stack.host, smtp_port=mail_stack.submission_port, smtp_security="starttls",
    )
    select_folders(mailbox, "INBOX")
    return mailbox


def person(mail_stack: Any, name: str) -> str:
    address = f"{name}-{uuid.uuid4().hex[:6]}@{mail_stack.domain}"
    mail_stack.add_user(address)
    return address


def add_rule(admin: Any, mailbox: Mailbox, *, conditions: list[dict[str, str]] | None = None,
             subject: str = "", body: str = "Dear {sender_name}, {mailbox_label} received “{subject}”.") -> Rule:
    rule = Rule(mailbox=mailbox, name="Acknowledge", enabled=True, conditions=conditions or [],
                subject_template=subject, body_template=body)
    return actions.save_rule(admin, rule)


def sync(mailbox: Mailbox) -> int:
    """One sync as a worker runs it (the runner enqueues the answers; the tasks run inline)."""
    run = run_sync(mailbox.pk, manual=True)
    assert run.ran and not run.error, run
    return run.fetched


def inbox(mail_stack: Any, address: str, *, expect: int | None = None) -> list[EmailMessage]:
    """The messages in `address`'s INBOX; with `expect`, wait until that many arrived (Postfix
    delivers in the background)."""
    return [email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for raw, _flags in raw_inbox(mail_stack, address, expect=expect or 0, wait=WAIT_SECONDS)]
