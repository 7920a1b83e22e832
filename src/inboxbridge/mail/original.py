"""A message's original bytes, fetched from its mail server when asked for.

The sync stores a message parsed (headers, bodies, attachments in the attachment store), not its
raw RFC 822 bytes. "Download original (.eml)", forwarding a message as an attachment and the REST
API's RFC 822 form want exactly what the sender sent, so they fetch it from the server: from a
folder the email is in, under the UID and UIDVALIDITY the sync recorded, read-only (the message
is not marked read by it).
"""

from __future__ import annotations

import logging
import unicodedata

from django.conf import settings

from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.credentials import imap_login
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.sessions import MailboxLogin, open_imap_session
from inboxbridge.mailserver.imap import ImapError
from inboxbridge.mailserver.imap_original import MessageGone, MessageTooLarge, fetch_original
from inboxbridge.mailserver.imap_parse import describe_size

logger = logging.getLogger(__name__)

GONE = "The original is not on the mail server any more (deleted or moved)."


class OriginalUnavailable(Exception):
    """Why the original cannot be had now, in words for the reader (never a credential).
    `gone`: the server no longer has it (as opposed to a server that could not be reached)."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.gone = gone


def original_bytes(email: Email, *, login: MailboxLogin = imap_login) -> bytes:
    """The message's original RFC 822 bytes, byte for byte as its mail server keeps them.

    Permission is the caller's: pass only an email taken from `mail.queries.visible_emails(user)`
    for the user asking (the pages answer 404 for any other id). Raises OriginalUnavailable with a
    text to show: the message is gone from the server, over the size limit of one message
    (INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES), the mailbox cannot be used now, or the server could not
    be reached. A refused access token is refreshed once (`open_imap_session`)."""
    limit = settings.IMAP_MAX_LITERAL_BYTES
    if email.size > limit:
        raise OriginalUnavailable(f"This message is {describe_size(email.size)}, over the limit of "
                                  f"{describe_size(limit)} for one message, so its original cannot be fetched.")
    mailbox = email.mailbox
    if not mailbox.active:
        raise OriginalUnavailable("This mailbox is disconnected, so its mail server is not asked for the original.")
    placements = list(Placement.objects.filter(email=email, folder__uidvalidity__isnull=False)
                      .select_related("folder").order_by("folder__name", "uid"))
    if not placements:
        raise OriginalUnavailable(GONE, gone=True)
    try:
        with open_imap_session(mailbox, login=login) as session:
            for placement in placements:
                folder = placement.folder
                try:
                    return fetch_original(session, folder.name, placement.uid, uidvalidity=folder.uidvalidity or 0)
                except MessageGone as exc:
                    # Moved or deleted since the last sync: another folder may still have it.
                    logger.info("Email %s: not in folder %s any more: %s", email.pk, folder.pk, exc.message)
    except MessageTooLarge as exc:
        raise OriginalUnavailable(exc.message + " Its original cannot be fetched.") from None
    except MailboxUnavailable as exc:
        raise OriginalUnavailable(f"The mail server was not asked for the original: {exc}") from None
    except ImapError as exc:
        logger.warning("Email %s: the original could not be fetched: %s", email.pk, exc.message)
        if exc.auth_failed:
            raise OriginalUnavailable(f"The mail server refused this mailbox's sign-in: {exc.message}") from None
        raise OriginalUnavailable(f"The mail server could not be reached: {exc.message}") from None
    raise OriginalUnavailable(GONE, gone=True)


def original_filename(email: Email) -> str:
    """A file name for the message (its subject, letters, digits and a few marks only) + .eml."""
    subject = "".join(ch for ch in unicodedata.normalize("NFC", email.subject or "")
                      if ch.isalnum() or ch in " -_.,")
    return f"{subject.strip(' .')[:80].strip() or 'message'}.eml"
