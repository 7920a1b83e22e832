"""Helpers of the sending tests: reading what the local Dovecot received, and fake servers for the
tests that only exercise the outbox's own logic."""

from __future__ import annotations

import email
import email.policy
import imaplib
import json
import re
import struct
import time
import uuid
import zlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.login import ServerLogin
from inboxbridge.sending import actions, tasks
from inboxbridge.sending.addresses import parse_addresses
from inboxbridge.sending.models import OutgoingMessage

WAIT_SECONDS = 10.0


def draft(mailbox: Mailbox, *, to: str = "", cc: str = "", bcc: str = "", subject: str = "Hello",
          body: str = "Hello there.\n", reply_to_email: Any = None) -> actions.Draft:
    return actions.Draft(mailbox=mailbox, to=parse_addresses(to), cc=parse_addresses(cc), bcc=parse_addresses(bcc),
                         subject=subject, body=body, reply_to_email=reply_to_email)


def queue(mailbox: Mailbox, **fields: Any) -> OutgoingMessage:
    """Queue a message as Compose does: into the outbox, handed to a worker once committed."""
    message = actions.queue_message(mailbox.owner, draft(mailbox, **fields))
    tasks.dispatch_on_commit(message.pk)
    return message


def fields(mailbox: Mailbox, **values: Any) -> dict[str, Any]:
    """A Compose page's POST: a valid message from `mailbox`, with `values` in place."""
    data = {"mailbox": mailbox.pk, "to": "ann@example.test", "cc": "", "bcc": "", "subject": "Hi", "body": "Hello."}
    data.update(values)
    return data


def fetch_all(client: imaplib.IMAP4, folder: str) -> list[tuple[EmailMessage, str]]:
    """Every message of a folder with its flags."""
    typ, _ = client.select(f'"{folder}"', readonly=True)
    assert typ == "OK", folder
    typ, data = client.uid("SEARCH", "ALL")
    uids = data[0].split() if data and data[0] else []
    found = []
    for uid in uids:
        typ, parts = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
        raw = next(part[1] for part in parts if isinstance(part, tuple))
        flags = re.search(rb"FLAGS \(([^)]*)\)", parts[0][0]).group(1).decode()  # type: ignore[index,union-attr]
        found.append((email.message_from_bytes(raw, policy=email.policy.default), flags))
    return found  # type: ignore[return-value]


def wait_for_messages(
    stack: Any, address: str, folder: str = "INBOX", count: int = 1
) -> list[tuple[EmailMessage, str]]:
    """Postfix delivers asynchronously: poll the folder until `count` messages are there."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        client = stack.imap(address)
        try:
            found = fetch_all(client, folder)
        finally:
            client.logout()
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def new_recipient(stack: Any, name: str = "rcpt") -> str:
    address = f"{name}-{uuid.uuid4().hex[:8]}@{stack.domain}"
    stack.add_user(address)
    return address


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (200, 40, 40), *, noise: int = 0) -> bytes:
    """A real PNG a browser draws (one colour), `noise` random bytes after its end to make it bigger."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"") + uuid.uuid4().bytes * (noise // 16))


def plant_access_token(mailbox: Mailbox, token: str) -> None:
    """Replace the cached access token (which MSAL still counts as valid) by another one."""
    cache = json.loads(mailbox.token_cache)
    for entry in cache["AccessToken"].values():
        entry["secret"] = token
    mailbox.token_cache = json.dumps(cache)
    mailbox.save(update_fields=["token_cache"])


# -- fakes for the logic tests ---------------------------------------------------------------------


@dataclass
class FakeServers:
    """Stands in for SMTP and IMAP: records submissions, raises the queued errors in turn."""

    sent: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    logins: list[bool] = field(default_factory=list)  # force_refresh of each login
    copies: list[tuple[str, bytes, tuple[str, ...]]] = field(default_factory=list)
    copy_error: Exception | None = None

    def login(self, mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
        self.logins.append(force_refresh)
        return ServerLogin("smtp.invalid", 587, "starttls", mailbox.email_address, "PLAIN", "not-used")

    def send(self, login: ServerLogin, sender: str, recipients: Any, message: bytes) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((sender, list(recipients), message))

    def append(self, login: Any, folder: str, data: bytes, flags: Any) -> bool:
        if self.copy_error is not None:
            raise self.copy_error
        self.copies.append((folder, data, tuple(flags)))
        return True
