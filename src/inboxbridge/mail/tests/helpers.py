"""Building mail for the tests: messages go through the real parser and the sync's write path
(inboxbridge.sync.store), so what the pages show is what a sync would have stored."""

from __future__ import annotations

import itertools
import re
import time
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.jobs.runner import run_sync
from inboxbridge.mail.actions import count_unread
from inboxbridge.mail.blobs import attachment_store
from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailserver.imap import FetchedMessage
from inboxbridge.sync.pipeline import parse_limits, prepared
from inboxbridge.sync.store import store_batch
from inboxbridge.sync.tests.helpers import select_folders

_uids = itertools.count(1)

# The Fetch Metadata a browser sends when the reader follows a link of this site: only such a GET
# marks a message read (the test client sends none).
READER_NAVIGATION = {"HTTP_SEC_FETCH_DEST": "document", "HTTP_SEC_FETCH_MODE": "navigate",
                     "HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_SEC_FETCH_USER": "?1"}


def folder(mailbox: Mailbox, name: str = "INBOX") -> Folder:
    return Folder.objects.get(mailbox=mailbox, name=name)


def message(
    subject: str = "Hello", *, sender: str = "Bob Sender <bob@elsewhere.test>", to: str = "alice@example.test",
    text: str | None = "Hello there.", html: str | None = None, date: datetime | None = None,
    message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
    attachments: list[tuple[str, str, bytes]] | None = None,
    inline: list[tuple[str, str, bytes]] | None = None,
) -> bytes:
    """An RFC 5322 message; attachments are (filename, content type, data); inline parts are
    (content id, content type, data) in a multipart/related with the HTML."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or timezone.now())
    msg["Message-ID"] = f"<{message_id or uuid.uuid4().hex + '@elsewhere.test'}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = references
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    if inline:
        html_part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
        for cid, ctype, data in inline:
            maintype, subtype = ctype.split("/")
            html_part.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{cid}>")
    for filename, ctype, data in attachments or []:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def store(
    mailbox: Mailbox, raw: bytes, *, in_folder: Folder | None = None, seen: bool = False,
    received_at: datetime | None = None, uid: int | None = None,
) -> Email:
    """Store one raw message as the sync would and return its Email."""
    target = in_folder or folder(mailbox)
    fetched = FetchedMessage(uid=uid or next(_uids), flags=("\\Seen",) if seen else (),
                             internaldate=received_at, size=len(raw), raw=raw)
    # As the sync does: attachment contents into the configured store (files, or the database).
    [item] = prepared([fetched], parse_limits(), attachment_store())
    store_batch(mailbox.pk, target.pk, [item], last_uid=item.uid)
    count_unread(mailbox.pk)  # as at the end of the sync run
    return Email.objects.filter(mailbox=mailbox, placements__folder=target, placements__uid=item.uid).get()


def mail_urls(email: Email, *, attachment: str, content_id: str) -> dict[str, tuple[str, str]]:
    """(method, URL) of every My Emails page and part of `email`: the message, its body, the named
    attachment, the inline part, its mailbox's INBOX, its thread and its read and flag switches."""
    part = email.attachments.get(filename=attachment)
    inline = email.attachments.get(content_id=content_id)
    return {
        "email": ("get", reverse("mail:detail", args=[email.pk])),
        "body": ("get", reverse("mail:body", args=[email.pk])),
        "attachment": ("get", reverse("mail:attachment", args=[part.pk])),
        "inline image": ("get", reverse("mail:inline", args=[email.pk, inline.pk])),
        "folder": ("get", reverse("mail:folder", args=[folder(email.mailbox).pk])),
        "thread": ("get", reverse("mail:thread", args=[email.thread_id])),
        "read state": ("post", reverse("mail:set-read", args=[email.pk])),
        "flag state": ("post", reverse("mail:set-flag", args=[email.pk])),
    }


def statuses(client: Any, urls: dict[str, tuple[str, str]]) -> dict[str, int]:
    """The HTTP status of each of `urls` (from `mail_urls`) for the signed-in user of `client`."""
    return {name: (client.post(url, {"seen": "1", "flagged": "0"}) if method == "post" else client.get(url)).status_code
            for name, (method, url) in urls.items()}


def raw_inbox(mail_stack: Any, address: str, *, expect: int = 1, wait: float = 15.0) -> list[tuple[bytes, str]]:
    """Each message of `address`'s INBOX on the test stack as Dovecot serves it, with its flags,
    read without changing them; waits up to `wait` seconds for `expect` (Postfix delivers later)."""
    deadline = time.monotonic() + wait
    while True:
        client = mail_stack.imap(address)
        try:
            client.select("INBOX", readonly=True)
            _typ, data = client.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
        finally:
            client.logout()
        found = [(item[1], re.search(rb"FLAGS \(([^)]*)\)", item[0])[1].decode())  # type: ignore[index]
                 for item in data if isinstance(item, tuple)]
        if len(found) >= expect or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def expunge_all(mail_stack: Any, address: str) -> None:
    """Delete every message of `address`'s INBOX on the test stack, as another mail client would."""
    client = mail_stack.imap(address)
    try:
        client.select("INBOX")
        client.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
        client.expunge()
    finally:
        client.logout()


def stack_mailbox(mail_stack: Any, user: Any, name: str) -> Mailbox:
    """A new account on the test mail server, connected as `user`'s own mailbox (account type
    Other, IMAPS), INBOX chosen for the sync."""
    # The sync tests' helper; imported here so the mail helpers need no sync import at load time.


    address = f"{name}-{uuid.uuid4().hex[:6]}@{mail_stack.domain}"
    password = mail_stack.add_user(address)
    mailbox = make_mailbox(user, folders=(), email_address=address, username=address, password=password,
                           imap_host=mail_stack.host, imap_port=mail_stack.imaps_port, imap_ssl=True)
    select_folders(mailbox, "INBOX")
    return mailbox


def delivered_and_synced(mail_stack: Any, mailbox: Mailbox, subject: str = "Contract, signed") -> Email:
    """A signed-looking message with 8-bit text and a PDF, delivered to `mailbox` through Postfix
    and synced: what the original-bytes tests compare with the server's copy."""
    sent = EmailMessage()
    sent["From"], sent["To"], sent["Subject"] = "Zoë <zoe@elsewhere.test>", mailbox.email_address, subject
    sent["Message-ID"] = f"<{uuid.uuid4().hex}@elsewhere.test>"
    sent["DKIM-Signature"] = "v=1; a=rsa-sha256; d=elsewhere.test; s=sel; b=c2lnbmF0dXJl"
    sent.set_content("Schöne Grüße,\nZoë\n", cte="8bit")
    sent.add_attachment(b"%PDF-1.4 signed", "application", "pdf", filename="contract.pdf")
    mail_stack.deliver(sent, to=mailbox.email_address)
    run = run_sync(mailbox.pk, manual=True)  # as a worker runs it
    assert run.ran and not run.error, run
    return Email.objects.get(mailbox=mailbox, message_id=sent["Message-ID"].strip("<>"))
