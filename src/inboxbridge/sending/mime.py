"""Building the message (stdlib `email`), once, when it is queued; and the texts of a reply."""

from __future__ import annotations

import email.policy
import html as html_lib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import cast

from inboxbridge.sending.addresses import Address, format_addresses, without

# A long conversation's References keep the first id (the thread's root) and the latest ones.
MAX_REFERENCES = 30
QUOTE_MAX_CHARS = 100_000
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(fwd?|wg|tr|vs)\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    """A file in a message: an attachment, or (with `content_id`) an image the HTML shows inline
    through a cid: URL. `content_type` "message/rfc822" is a whole message forwarded as a file."""

    filename: str
    content_type: str
    data: bytes
    content_id: str = ""  # without angle brackets


def _header_addresses(pairs: Sequence[Sequence[str]]) -> list[HeaderAddress]:
    return [HeaderAddress(display_name=name, addr_spec=address) for name, address in pairs]


def new_message_id(sender_address: str) -> str:
    """A Message-ID in the sending mailbox's domain, without the angle brackets."""
    domain = sender_address.rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain.encode("idna").decode("ascii"))[1:-1]


def build_message(
    *, sender: Address, to: Sequence[Address], cc: Sequence[Address], subject: str, body: str,
    message_id: str, when: datetime, in_reply_to: str = "", references: Sequence[str] = (),
    auto_submitted: str = "", html: str = "", inline: Sequence[Part] = (), attachments: Sequence[Part] = (),
) -> bytes:
    """The RFC 5322 bytes to submit (CRLF line ends, 7-bit safe). Bcc is never in them: it only
    exists in the SMTP envelope (and in the sender's own Sent copy, see `with_bcc`).
    `auto_submitted` ("auto-replied" for an automatic answer, RFC 3834) tells other responders
    not to answer this message, which is what keeps two responders from looping.

    The body is the standard shape every client reads: text/plain alone; with `html`,
    multipart/alternative (the text first, the richer part last), the HTML inside multipart/related
    with its `inline` images; all of it inside multipart/mixed when there are `attachments`."""
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
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
        html_part = cast(EmailMessage, msg.get_payload()[-1])  # type: ignore[index]
        for image in inline:
            maintype, _, subtype = image.content_type.partition("/")
            html_part.add_related(image.data, maintype, subtype or "octet-stream", cid=f"<{image.content_id}>",
                                  disposition="inline", filename=image.filename or None)
    forwarded = [found for part in attachments if (found := _attach(msg, part)) is not None]
    for multipart in (part for part in msg.walk() if forwarded and part.is_multipart()):
        # The generator picks boundaries absent from the text it sees, and it does not see the
        # forwarded bytes: these boundaries are chosen here, absent from them.
        boundary = f"=_{uuid.uuid4().hex}"
        while any(boundary.encode("ascii") in data for _placeholder, data in forwarded):
            boundary = f"=_{uuid.uuid4().hex}"
        multipart.set_boundary(boundary)
    raw = msg.as_bytes(policy=email.policy.SMTP)
    for placeholder, data in forwarded:
        raw = raw.replace(placeholder, data, 1)
    return raw


def _attach(msg: EmailMessage, part: Part) -> tuple[bytes, bytes] | None:
    """Add a file to the message. A forwarded message (message/rfc822) returns (placeholder, its
    bytes): the caller puts the bytes in place of the placeholder once the message is written."""
    if part.content_type.lower() == "message/rfc822":
        # RFC 2046 allows no base64 for message/rfc822, and a forwarded original must arrive byte
        # for byte (8-bit text and all; a rebuilt one is 7-bit clean, see
        # inboxbridge.sending.originals.rebuilt_message). The stdlib writes such a payload only as
        # ASCII text, so it writes a placeholder that is swapped for the bytes afterwards.
        placeholder = f"inboxbridge-forwarded-{uuid.uuid4().hex}"
        attachment = EmailMessage()
        attachment["Content-Type"] = "message/rfc822"
        attachment["Content-Disposition"] = "attachment"
        attachment.set_param("filename", part.filename or "message.eml", header="Content-Disposition")
        attachment["Content-Transfer-Encoding"] = "7bit" if part.data.isascii() else "8bit"
        attachment.set_payload(placeholder)
        if msg.get_content_type() != "multipart/mixed":
            msg.make_mixed()
        msg.attach(attachment)
        return placeholder.encode("ascii"), part.data
    maintype, _, subtype = part.content_type.partition("/")
    msg.add_attachment(part.data, maintype or "application", subtype or "octet-stream",
                       filename=part.filename or "attachment")
    return None


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


def forward_subject(subject: str) -> str:
    return subject if _FORWARD_PREFIX.match(subject or "") else f"Fwd: {subject or ''}".strip()


def forward_header_lines(sender: str, when: datetime | None, subject: str, to: str, cc: str) -> list[tuple[str, str]]:
    """The header block above a forwarded message, as Outlook and Gmail show it."""
    lines = [("From", sender), ("Date", f"{when:%a, %d %b %Y %H:%M}" if when else ""), ("Subject", subject),
             ("To", to), ("Cc", cc)]
    return [(name, value) for name, value in lines if value]


def forwarded_text(header: list[tuple[str, str]], body: str) -> str:
    block = "\n".join(f"{name}: {value}" for name, value in header)
    return f"\n\n---------- Forwarded message ----------\n{block}\n\n{(body or '')[:QUOTE_MAX_CHARS]}\n"


def forwarded_html(header: list[tuple[str, str]], body_html: str) -> str:
    """The same block for the HTML body; `body_html` is already sanitised."""
    block = "<br>".join(f"<b>{html_lib.escape(name)}:</b> {html_lib.escape(value)}" for name, value in header)
    return (f"<p><br></p><div class=\"forwarded\"><p>---------- Forwarded message ----------<br>{block}</p>"
            f"{body_html}</div>")


def quoted_html(sender: str, when: datetime | None, body_html: str) -> str:
    """The answered message's (sanitised) HTML in a blockquote, below an empty first line."""
    intro = f"On {when:%a, %d %b %Y %H:%M}, {sender} wrote:" if when else f"{sender} wrote:"
    return (f"<p><br></p><p>{html_lib.escape(intro)}</p>"
            f"<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex\">{body_html}"
            "</blockquote>")


def text_as_html(text: str) -> str:
    """Plain text in HTML, line breaks kept."""
    return "<br>".join(html_lib.escape(line) for line in text.split("\n"))


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
