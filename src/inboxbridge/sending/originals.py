"""What a reply or a forward takes from the original message: its HTML for quoting, its inline
images, its attachments (their contents read from the attachment store, never copied) and, to
forward it as a file, the original's bytes from its mail server (or, when the server cannot give
them, the message rebuilt from what the sync stored)."""

from __future__ import annotations

import email.errors
import email.policy
from collections.abc import Iterable
from email.message import EmailMessage
from typing import cast

from inboxbridge.lib.html import sanitize_email_html
from inboxbridge.mail.blobs import ContentMissing, blob_bytes
from inboxbridge.mail.models import Attachment, Email
from inboxbridge.mail.original import OriginalUnavailable, original_bytes, original_filename
from inboxbridge.sending.mime import Part

# Headers that describe the stored body, not the message: the rebuilt message writes its own.
_BODY_HEADERS = {"content-type", "content-transfer-encoding", "mime-version", "content-disposition",
                 "content-id", "content-description", "content-length", "lines"}


# Bodies in quoted-printable or base64, so the whole message is ASCII (a message/rfc822 part may
# not be base64-encoded itself, RFC 2046).
SEVEN_BIT = email.policy.SMTP.clone(cte_type="7bit")


class OriginalMissing(Exception):
    """A part of the original that cannot be read any more, with a message for the writer."""


def shown_inline(email_message: Email) -> list[Attachment]:
    """The parts the original's HTML shows through cid: URLs (as mail.queries.message_view decides)."""
    html = email_message.body_html.lower()
    return [part for part in email_message.attachments.all()
            if part.inline and part.content_id and part.blob_id and f"cid:{part.content_id.lower()}" in html]


def listed_attachments(email_message: Email) -> list[Attachment]:
    """The original's files a forward offers to keep: every stored part its HTML does not show."""
    inline = {part.pk for part in shown_inline(email_message)}
    return [part for part in email_message.attachments.all() if part.pk not in inline and part.blob_id]


def quotable_html(email_message: Email) -> str:
    """The original's HTML, sanitised, its inline images still pointing at their cid: (they go
    with the answer: see `inline_images`); remote images stay out, as they do on screen."""
    if not email_message.body_html:
        return ""
    cids = {part.content_id.strip("<>").lower() for part in shown_inline(email_message)}
    return sanitize_email_html(
        email_message.body_html, cid_url=lambda cid: f"cid:{cid}" if cid.lower() in cids else None
    ).html


def _part(attachment: Attachment, *, inline: bool) -> Part:
    assert attachment.blob is not None
    try:
        data = blob_bytes(attachment.blob)
    except ContentMissing:
        raise OriginalMissing(f"The content of “{attachment.filename or attachment.content_type}” is missing "
                              "on the server, so it cannot be sent. Remove it, or tell your administrator.") from None
    return Part(attachment.filename, attachment.content_type, data,
                attachment.content_id.strip("<>") if inline else "")


def inline_images(email_message: Email) -> list[Part]:
    return [_part(part, inline=True) for part in shown_inline(email_message)]


def attachment_parts(email_message: Email, ids: Iterable[int]) -> list[Part]:
    """The chosen files of the original, in its order; ids of other messages' parts are ignored."""
    wanted = set(ids)
    return [_part(part, inline=False) for part in listed_attachments(email_message) if part.pk in wanted]


def rebuilt_message(email_message: Email) -> bytes:
    """The original as a message/rfc822 file. The sync keeps a message's headers, bodies and parts,
    not its raw bytes, so it is put together again from those: every header as received, the text
    and HTML bodies, each attachment byte for byte (its SHA-256 unchanged). 7-bit clean output."""
    msg = EmailMessage(policy=SEVEN_BIT)
    for name, value in email_message.headers:
        if name.lower() in _BODY_HEADERS:
            continue
        try:
            msg[name] = value
        except (ValueError, TypeError, IndexError, email.errors.MessageError):
            continue  # a header the stdlib cannot write back: the rest of the message still goes
    msg.set_content(email_message.body_text or "\n", charset="utf-8")
    if email_message.body_html:
        msg.add_alternative(email_message.body_html, subtype="html", charset="utf-8")
        html_part = cast(EmailMessage, msg.get_payload()[-1])  # type: ignore[index]
        for image in inline_images(email_message):
            maintype, _, subtype = image.content_type.partition("/")
            html_part.add_related(image.data, maintype, subtype or "octet-stream", cid=f"<{image.content_id}>",
                                  disposition="inline", filename=image.filename or None)
    for part in attachment_parts(email_message, [p.pk for p in listed_attachments(email_message)]):
        maintype, _, subtype = part.content_type.partition("/")
        msg.add_attachment(part.data, maintype or "application", subtype or "octet-stream",
                           filename=part.filename or "attachment")
    return msg.as_bytes()


def forwarded_original(email_message: Email) -> tuple[Part, str]:
    """The original as a message/rfc822 file to forward, and a warning for the writer ("" if none).

    The original's own bytes from its mail server, as a recipient expects of a forwarded .eml
    (signatures and every header intact); only when the server cannot give them, the message
    rebuilt from what the sync stored, and the warning says so and why."""
    try:
        data, warning = original_bytes(email_message), ""
    except OriginalUnavailable as exc:
        data = rebuilt_message(email_message)
        warning = (f"The original message could not be fetched from its mail server ({exc.message}) "
                   "The attached .eml was rebuilt from the copy stored here: the same headers, text and "
                   "files, but not the exact original (a signature on it no longer verifies).")
    return Part(original_filename(email_message), "message/rfc822", data), warning
