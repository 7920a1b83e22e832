"""Compose's texts and the message it sends: what a new message, a reply or a forward starts with
(the signature above the quoted original), what a draft keeps, and the outgoing message made of
the form (the HTML sanitised, its text alternative, the images and files it carries)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from inboxbridge.lib.html import html_to_text, sanitize_email_html
from inboxbridge.mail.blobs import ContentMissing, blob_bytes
from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import actions, mime, originals
from inboxbridge.sending.addresses import format_addresses
from inboxbridge.sending.models import DraftAttachment, SavedDraft

SIGNATURE_SEPARATOR = "-- "  # RFC 3676: mail clients recognise (and may hide) what follows
EMPTY_SIGNATURE = '<div class="signature"></div>'  # kept, so choosing another From can fill it


@dataclass(frozen=True)
class Origin:
    """What the message answers or forwards (neither for a new message)."""

    parent: Email | None = None
    forward_of: Email | None = None
    everyone: bool = False

    @property
    def original(self) -> Email | None:
        return self.parent if self.parent is not None else self.forward_of


def signature_text(signature: str) -> str:
    return f"\n\n{SIGNATURE_SEPARATOR}\n{signature}" if signature else ""


def signature_html(signature: str) -> str:
    """The signature's block in the editor; compose.js swaps its content when From changes."""
    lines = "<br>".join(html_lib.escape(line) for line in signature.split("\n")) if signature else ""
    return f'<div class="signature">{SIGNATURE_SEPARATOR}<br>{lines}</div>' if signature else EMPTY_SIGNATURE


def initial(origin: Origin, mailbox: Mailbox | None, signature: str) -> dict[str, Any]:
    """The form of a new message, a reply or a forward: the signature first, the original below."""
    values: dict[str, Any] = {"mailbox": mailbox, "body": signature_text(signature)}
    html = "<p><br></p>" + signature_html(signature)
    original = origin.original
    if original is None:
        return {**values, "body_html": html}
    sender = format_addresses([(original.from_name, original.from_address)]) or "(unknown sender)"
    when = original.sent_at or original.received_at
    quoted = originals.quotable_html(original) or mime.text_as_html(original.body_text)
    if origin.parent is not None:
        own = mailbox.email_address if mailbox is not None else ""
        to, cc = mime.reply_recipients((original.from_name, original.from_address), original.reply_to, original.to,
                                       original.cc, own_address=own, everyone=origin.everyone)
        values.update(to=to, cc=cc, subject=mime.reply_subject(original.subject))
        values["body"] += mime.quoted_body(sender, when, original.body_text)
        html += mime.quoted_html(sender, when, quoted)
    else:
        header = mime.forward_header_lines(sender, when, original.subject, format_addresses(original.to),
                                           format_addresses(original.cc))
        values.update(subject=mime.forward_subject(original.subject),
                      keep_original=[part.pk for part in originals.listed_attachments(original)])
        values["body"] += mime.forwarded_text(header, original.body_text)
        html += mime.forwarded_html(header, quoted)
    return {**values, "body_html": html}


def attached_uploads(saved: SavedDraft | None) -> list[DraftAttachment]:
    """The draft's attached files (listed on the page to keep or untick), not its inserted images."""
    return [upload for upload in saved.uploads.all() if not upload.inline] if saved is not None else []


def inserted_images(saved: SavedDraft | None) -> list[DraftAttachment]:
    """The images inserted into the draft's text, shown or not any more."""
    return [upload for upload in saved.uploads.all() if upload.inline] if saved is not None else []


def image_url(upload: DraftAttachment) -> str:
    return reverse("sending:draft-image", args=[upload.draft_id, upload.pk])


def _inline_urls(original: Email | None, saved: SavedDraft | None) -> dict[str, str]:
    """The images the editor shows as this site's owner-checked routes (a cid: URL shows nothing
    in a browser) -> their Content-ID: the original's inline images, and those inserted into the draft."""
    urls = {image_url(upload): upload.content_id for upload in inserted_images(saved)}
    if original is not None:
        urls.update({reverse("mail:inline", args=[original.pk, part.pk]): part.content_id.strip("<>")
                     for part in originals.shown_inline(original)})
    return urls


def for_editor(html: str, origin: Origin, saved: SavedDraft | None = None) -> str:
    for url, cid in _inline_urls(origin.original, saved).items():
        html = html.replace(f'src="cid:{cid}"', f'src="{url}"')
    return html


def from_editor(html: str, origin: Origin, saved: SavedDraft | None = None) -> str:
    """The editor's HTML with its images named by Content-ID again, as they are sent. An image cut
    and pasted within the editor comes back with this site's address in front of its path."""
    for url, cid in _inline_urls(origin.original, saved).items():
        html = re.sub(f'src="(?:https?://[^/"]*)?{re.escape(url)}"', f'src="cid:{cid}"', html)
    return html


def _shown(cid: str, html: str) -> bool:
    return f"cid:{cid.lower()}" in html


def carried_sizes(origin: Origin, saved: SavedDraft | None, editor_html: str) -> dict[str, int]:
    """What the message carries besides its attached files, for the size check: the forwarded
    original (when it goes as a file), and the inline images its HTML shows."""
    original = origin.original
    html = from_editor(editor_html, origin, saved).lower() if editor_html.strip() else ""
    shown = [part.size for part in originals.shown_inline(original) if _shown(part.content_id.strip("<>"), html)
             ] if original is not None and html else []
    shown += [upload.size for upload in inserted_images(saved) if _shown(upload.content_id, html)] if html else []
    return {"original_size": origin.forward_of.size if origin.forward_of is not None else 0,
            "inline_size": sum(shown)}


def resumed(saved: SavedDraft) -> dict[str, Any]:
    return {"mailbox": saved.mailbox, "to": saved.to, "cc": saved.cc, "bcc": saved.bcc, "subject": saved.subject,
            "body": saved.body_text, "body_html": saved.body_html, "forward_as_attachment": saved.forward_as_attachment,
            "keep_original": saved.kept_original_parts,
            "keep_upload": [part.pk for part in attached_uploads(saved)]}


def draft_fields(data: dict[str, Any], origin: Origin, saved: SavedDraft | None = None) -> dict[str, Any]:
    """SavedDraft's fields from a form's cleaned data (a DraftForm's raw texts, or a ComposeForm's)."""
    def typed(name: str) -> str:
        value = data.get(name) or ""
        return value if isinstance(value, str) else format_addresses(value)

    return {"mailbox": data.get("mailbox"), "to": typed("to"), "cc": typed("cc"), "bcc": typed("bcc"),
            "subject": data.get("subject") or "", "body_text": data.get("body") or "",
            "body_html": _kept_html(from_editor(data.get("body_html") or "", origin, saved)),
            "reply_to_email": origin.parent,
            "forward_of": origin.forward_of,
            "forward_as_attachment": bool(data.get("forward_as_attachment")),
            "kept_original_parts": list(data.get("keep_original") or [])}


def _kept_html(html: str) -> str:
    """A draft's HTML, sanitised before it is kept: the editor shows it again when it is resumed."""
    return sanitize_email_html(html, allow_remote=True, cid_url=lambda cid: f"cid:{cid}").html if html.strip() else ""


def outgoing(
    data: dict[str, Any], origin: Origin, saved: SavedDraft, sender_name: str
) -> tuple[actions.Draft, list[str]]:
    """The message to queue from a valid ComposeForm whose files are in `saved`, and warnings for
    the writer (a forwarded .eml rebuilt because its server could not give the original). Raises
    originals.OriginalMissing when a file's content is gone from the server."""
    original = origin.original
    warnings: list[str] = []
    quoted = originals.shown_inline(original) if original is not None else []
    inserted = inserted_images(saved)
    inline_cids = ({part.content_id.strip("<>").lower() for part in quoted}
                   | {upload.content_id.lower() for upload in inserted})
    html = sendable_html(from_editor(data["body_html"], origin, saved), inline_cids) if data.get("body_html") else ""
    inline: list[mime.Part] = []
    if html:
        # Only the images the HTML still shows go: one the writer deleted in the editor is not sent at all.
        low = html.lower()
        if original is not None:
            inline += [part for part in originals.inline_images(original) if _shown(part.content_id, low)]
        inline += [_upload_part(upload) for upload in inserted if _shown(upload.content_id, low)]
    files = [_upload_part(upload) for upload in attached_uploads(saved)]
    if origin.forward_of is not None:
        files += originals.attachment_parts(origin.forward_of, data.get("keep_original") or [])
        if data.get("forward_as_attachment"):
            eml, warning = originals.forwarded_original(origin.forward_of)
            files.append(eml)
            warnings.append(warning)
    return actions.Draft(
        mailbox=data["mailbox"], to=data["to"], cc=data["cc"], bcc=data["bcc"], subject=data["subject"],
        body=text_alternative(html) if html else data["body"], html=html, inline=inline, attachments=files,
        sender_name=sender_name, reply_to_email=origin.parent, forward_of=origin.forward_of, saved_draft_id=saved.pk,
    ), warnings


def text_alternative(html: str) -> str:
    """The plain-text part sent beside a message's (sanitised) HTML."""
    return html_to_text(html) + "\n"


def sendable_html(html: str, inline_cids: set[str], *, asked: set[str] | None = None) -> str:
    """A writer's HTML made safe to send ("" when it is blank). It is the writer's, but a paste (or
    an application's template) can bring anything: sanitised like received mail, remote images
    allowed (the writer chose them), cid: only for the images that travel with the message
    (`inline_cids`, lower case). `asked` collects every cid the HTML shows (lower case)."""
    if not html.strip():
        return ""

    def cid_url(cid: str) -> str | None:
        if asked is not None:
            asked.add(cid.lower())
        return f"cid:{cid}" if cid.lower() in inline_cids else None

    return sanitize_email_html(html, allow_remote=True, cid_url=cid_url).html


def _upload_part(upload: DraftAttachment) -> mime.Part:
    try:
        data = blob_bytes(upload.blob)
    except ContentMissing:
        again = "insert it" if upload.inline else "attach it"
        raise originals.OriginalMissing(f"The content of “{upload.filename}” is missing on the server. Remove it "
                                        f"and {again} again.") from None
    return mime.Part(upload.filename, upload.content_type, data, upload.content_id)
