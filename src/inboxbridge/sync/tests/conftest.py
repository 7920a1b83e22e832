"""Helpers of the sync tests: a connected Office 365 mailbox on the local Dovecot, messages, and
the comparison of what the database holds with what the server holds."""

from __future__ import annotations

import email.message
import email.policy
import email.utils
import imaplib
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from inboxbridge.lib.mime import parse_message
from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.actions import update_folders
from inboxbridge.mailboxes.credentials import imap_login
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailserver.imap import list_folders


def make_message(
    subject: str,
    body: str = "Hello.\n",
    *,
    message_id: str | None = "",
    sender: str = "Sender <sender@elsewhere.test>",
    to: str = "user@example.test",
    date: datetime | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """A message as bytes with CRLF line ends; message_id "" = a fresh one, None = no header."""
    msg = email.message.EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = email.utils.format_datetime(date or datetime.now(UTC))
    if message_id is not None:
        msg["Message-ID"] = f"<{message_id or uuid.uuid4().hex + '@elsewhere.test'}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment[1], maintype="application", subtype="octet-stream", filename=attachment[0])
    return msg.as_bytes(policy=email.policy.SMTP)


def append(client: imaplib.IMAP4, folder: str, raw: bytes, flags: str = "") -> int:
    """APPEND and return the new UID (UIDPLUS)."""
    typ, data = client.append(f'"{folder}"', flags, None, raw)
    assert typ == "OK", data
    match = re.search(rb"APPENDUID \d+ (\d+)", data[-1] or b"")
    assert match, data
    return int(match.group(1))


def create_folder(client: imaplib.IMAP4, name: str) -> None:
    typ, data = client.create(f'"{name}"')
    assert typ == "OK", data


def select_folders(mailbox: Mailbox, *names: str) -> None:
    """What the owner does on the settings page: retrieve the folders and tick some."""
    remote = list_folders(imap_login(mailbox))
    update_folders(mailbox, [(f.name, f.display_name, f.delimiter, f.special_use) for f in remote])
    updated = Folder.objects.filter(mailbox=mailbox, name__in=names).update(selected=True)
    assert updated == len(names), (names, [f.name for f in remote])


Listing = dict[str, dict[int, tuple[str, bool, bool]]]  # folder -> uid -> (subject, seen, flagged)


def server_listing(client: imaplib.IMAP4, folders: Iterable[str]) -> Listing:
    listing: Listing = {}
    for folder in folders:
        typ, data = client.select(f'"{folder}"', readonly=True)
        assert typ == "OK", data
        listing[folder] = {}
        typ, data = client.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        for item in data:
            if not isinstance(item, tuple):
                continue
            uid = int(re.search(rb"UID (\d+)", item[0]).group(1))  # type: ignore[union-attr]
            flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1).decode()  # type: ignore[union-attr]
            # The product's parser decodes the subject (8-bit headers included) as the sync stores it.
            subject = parse_message(item[1]).subject
            listing[folder][uid] = (subject, "\\Seen" in flags, "\\Flagged" in flags)
    client.close()
    return listing


def db_listing(mailbox: Mailbox, folders: Iterable[str]) -> Listing:
    listing: Listing = {name: {} for name in folders}
    rows = Placement.objects.filter(folder__mailbox=mailbox, folder__name__in=list(listing)).values_list(
        "folder__name", "uid", "email__subject", "email__is_seen", "email__is_flagged"
    )
    for folder, uid, subject, seen, flagged in rows:
        listing[folder][uid] = (subject, seen, flagged)
    return listing


def assert_in_step(mailbox: Mailbox, client: imaplib.IMAP4, folders: Iterable[str]) -> None:
    """The database holds exactly the server's mail: same UIDs, subjects and flags, one Email per
    message, and no Email outside every folder."""
    names = list(folders)
    assert db_listing(mailbox, names) == server_listing(client, names)
    assert not Email.objects.filter(mailbox=mailbox, placements__isnull=True).exists()


@dataclass
class SyncCase:
    mailbox: Mailbox
    address: str
    client: imaplib.IMAP4

    def refresh(self) -> Mailbox:
        self.mailbox.refresh_from_db()
        return self.mailbox


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
