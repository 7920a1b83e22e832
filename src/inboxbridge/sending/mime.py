"""Building the message (stdlib `email`), once, when it is queued; and the texts of a reply."""

from __future__ import annotations

import email.policy
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from inboxbridge.sending.addresses import Address, format_addresses, without

# A long conversation's References keep the first id (the thread's root) and the latest ones.
MAX_REFERENCES = 30
QUOTE_MAX_CHARS = 100_000
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.IGNORECASE)


def _header_addresses(pairs: Sequence[Sequence[str]]) -> list[HeaderAddress]:
    return [HeaderAddress(display_name=name, addr_spec=address) for name, address in pairs]


def new_message_id(sender_address: str) -> str:
    """A Message-ID in the sending mailbox's domain, without the angle brackets."""
    domain = sender_address.rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain.encode("idna").decode("ascii"))[1:-1]


def build_message(
    *, sender: Address, to: Sequence[Address], cc: Sequence[Address], subject: str, body: str,
    message_id: str, when: datetime, in_reply_to: str = "", references: Sequence[str] = (),
    auto_submitted: str = "",
) -> bytes:
    """The RFC 5322 bytes to submit (CRLF line ends, 7-bit safe). Bcc is never in them: it only
    exists in the SMTP envelope (and in the sender's own Sent copy, see `with_bcc`).
    `auto_submitted` ("auto-replied" for an automatic answer, RFC 3834) tells other responders
    not to answer this message, which is what keeps two responders from looping."""
    msg = EmailMessage()
    msg["From"] = HeaderAddress(display_name=sender[0], addr_spec=sender[1])
    if to:
        msg["To"] = _header_addresses(to)
    if cc:
        msg["Cc"] = _header_addresses(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    refs = [ref for ref in references if ref]
    if len(refs) > MAX_REFERENCES:
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1):]
    if refs:
        msg["References"] = " ".join(f"<{ref}>" for ref in refs)
    if auto_submitted:
        msg["Auto-Submitted"] = auto_submitted
    msg["MIME-Version"] = "1.0"
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    msg.set_content(text if text.endswith("\n") else text + "\n", charset="utf-8")
    return msg.as_bytes(policy=email.policy.SMTP)


def with_bcc(mime: bytes, bcc: Sequence[Address]) -> bytes:
    """The sender's copy for Sent: the submitted bytes plus a Bcc header, so the sender still sees
    whom they copied (as Outlook shows it)."""
    if not bcc:
        return mime
    header = EmailMessage()
    header["Bcc"] = _header_addresses(bcc)
    line = header.as_bytes(policy=email.policy.SMTP).split(b"\r\n\r\n", 1)[0]
    return line + b"\r\n" + mime


def reply_subject(subject: str) -> str:
    return subject if _REPLY_PREFIX.match(subject or "") else f"Re: {subject or ''}".strip()


def quoted_body(sender: str, when: datetime | None, body: str) -> str:
    """The answered message below an empty first line, each line prefixed with "> "."""
    body = (body or "")[:QUOTE_MAX_CHARS].replace("\r\n", "\n").rstrip("\n")
    intro = f"On {when:%a, %d %b %Y %H:%M}, {sender} wrote:" if when else f"{sender} wrote:"
    quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
    return f"\n\n{intro}\n{quoted}\n"


def reply_recipients(
    email_from: Address, reply_to: Sequence[Sequence[str]], to: Sequence[Sequence[str]],
    cc: Sequence[Sequence[str]], *, own_address: str, everyone: bool,
) -> tuple[str, str]:
    """The To and Cc fields of a reply: Reply-To (else From); with `everyone`, the other
    recipients in Cc. The sender's own address is left out."""
    first = [tuple(pair) for pair in reply_to] or ([email_from] if email_from[1] else [])
    reply_to_list = without(first, own_address)
    if not reply_to_list and first:
        reply_to_list = without(to, own_address)  # answering one's own message: to its recipients
    cc_list = without([*to, *cc], own_address, *(address for _n, address in reply_to_list)) if everyone else []
    return format_addresses(reply_to_list), format_addresses(cc_list)
