"""Sending one queued message: claim it, submit it over SMTP from its mailbox, record the outcome,
then file a copy in the mailbox's Sent folder over IMAP.

Every error text written to the outbox is meant for the person who wrote the message: what
happened and what to do, never a credential (the SMTP and IMAP doors and MicrosoftError only carry
safe texts, and actions redact again)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from inboxbridge.mailboxes.credentials import imap_login, provider_for, smtp_login
from inboxbridge.mailboxes.messages import settings_place
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailboxes.tokens import MailboxUnavailable
from inboxbridge.mailserver import imap, smtp
from inboxbridge.mailserver.login import SMTP, ServerLogin
from inboxbridge.microsoft.errors import (
    MicrosoftError,
    send_as_denied,
    send_as_denied_text,
    sending_limit_reached,
    smtp_auth_disabled,
    smtp_auth_disabled_text,
)
from inboxbridge.sending import actions, mime
from inboxbridge.sending.models import OutgoingMessage

logger = logging.getLogger(__name__)

SENT_NAMES = ("sent items", "sent")


class SendFailure(Exception):
    def __init__(self, text: str, *, permanent: bool, delay: timedelta | None = None) -> None:
        super().__init__(text)
        self.text = text
        self.permanent = permanent
        self.delay = delay


@dataclass(frozen=True)
class Attempt:
    outcome: str  # sent / retry / failed / rate-limited / skipped, for the task result
    again_at: datetime | None = None  # when the message is to be tried again (the task enqueues that)


def send_message(message_id: int) -> Attempt:
    """Run by the `send_outgoing_message` task: one attempt at sending the message."""
    claim = actions.claim_outgoing_message(message_id)
    if claim.wait_until is not None:
        logger.info("Outgoing message %s waits for the mailbox's sending rate limit", message_id)
        return Attempt("rate-limited", claim.wait_until)
    message = claim.message
    if message is None:
        return Attempt("skipped")  # sent, failed, taken by another worker, or not due yet
    try:
        _submit(message, message.mailbox)
    except SendFailure as failure:
        return _failed(message, failure)
    except Exception:
        # A bug or an outage of our own: the message is kept and tried again like after a timeout.
        logger.exception("Sending outgoing message %s failed unexpectedly", message_id)
        return _failed(message, SendFailure("An unexpected error interrupted the sending; it is tried again.",
                                            permanent=False))
    actions.record_sent(message)
    logger.info("Outgoing message %s sent from mailbox %s", message_id, message.mailbox_id)
    save_sent_copy(message)
    return Attempt("sent")


def _failed(message: OutgoingMessage, failure: SendFailure) -> Attempt:
    retry_at = actions.record_failure(message, failure.text, permanent=failure.permanent, delay=failure.delay)
    if retry_at is None:
        logger.warning("Outgoing message %s failed: %s", message.pk, failure.text)
        return Attempt("failed")
    logger.info("Outgoing message %s: attempt %s failed, next at %s: %s", message.pk, message.attempts,
                retry_at.isoformat(), failure.text)
    return Attempt("retry", retry_at)


# -- SMTP ------------------------------------------------------------------------------------------


def _submit(message: OutgoingMessage, mailbox: Mailbox) -> None:
    if not mailbox.active:
        raise SendFailure(f"The mailbox {mailbox.email_address} was disconnected, so this message cannot be sent "
                          f"from it. Connect it again in {settings_place(mailbox)}, then click Retry.", permanent=True)
    if mailbox.needs_reconnect:
        raise SendFailure(_reconnect_text(mailbox, mailbox.reconnect_reason), permanent=True)
    recipients = message.envelope_recipients
    data = bytes(message.mime)
    login = _login(mailbox, force_refresh=False)
    try:
        # MAIL FROM is the mailbox's address: the one the token (or password) belongs to, or the
        # shared address its delegate sends as (the login is then the delegate's: credentials/shared.py).
        smtp.send(login, mailbox.email_address, recipients, data)
        return
    except smtp.SmtpError as error:
        refresh = error.auth_failed and provider_for(mailbox).renewable and not smtp_auth_disabled(str(error))
        if not refresh:
            raise _smtp_failure(error, mailbox) from None
    # The cached access token was refused (revoked, or expired early): one fresh token, one more try.
    logger.info("SMTP refused the cached access token of mailbox %s; refreshing it once", mailbox.pk)
    login = _login(mailbox, force_refresh=True)
    try:
        smtp.send(login, mailbox.email_address, recipients, data)
    except smtp.SmtpError as error:
        raise _smtp_failure(error, mailbox, refreshed=True) from None


def _login(mailbox: Mailbox, *, force_refresh: bool) -> ServerLogin:
    try:
        return smtp_login(mailbox, force_refresh=force_refresh)
    except MailboxUnavailable as exc:
        mailbox.refresh_from_db(fields=["needs_reconnect", "reconnect_reason"])
        if mailbox.needs_reconnect:
            raise SendFailure(_reconnect_text(mailbox, mailbox.reconnect_reason), permanent=True) from None
        raise SendFailure(f"{exc} Then click Retry.", permanent=True) from None
    except MicrosoftError as exc:
        if exc.is_grant_revoked:
            # tokens.py has already marked the mailbox as needing a reconnect.
            raise SendFailure(_reconnect_text(mailbox, exc.message), permanent=True) from None
        raise SendFailure(f"Could not get an access token from Microsoft: {exc.message}", permanent=False) from None


def _reconnect_text(mailbox: Mailbox, reason: str) -> str:
    detail = f" ({reason.strip().rstrip('.')})" if reason.strip() else ""
    whose = "the system mailbox (an administrator)" if mailbox.is_system else "your mailbox"
    return (f"Reconnect {whose}: Microsoft no longer accepts the sign-in of {mailbox.email_address}{detail}. "
            f"Click Reconnect in {settings_place(mailbox)}, then click Retry on this message.")


def _smtp_failure(error: smtp.SmtpError, mailbox: Mailbox, *, refreshed: bool = False) -> SendFailure:
    text = str(error)
    if smtp_auth_disabled(text):
        return SendFailure(smtp_auth_disabled_text(mailbox.email_address), permanent=True)
    if send_as_denied(text):
        # The login was the delegate's (signed_in_as); the sender stays the shared address.
        return SendFailure(send_as_denied_text(mailbox.email_address, mailbox.signed_in_as or mailbox.email_address),
                           permanent=True)
    if sending_limit_reached(text):
        return SendFailure(f"Microsoft 365's sending limit for this mailbox was reached ({text}); "
                           "the message is sent once it allows more.", permanent=False, delay=actions.RATE_WINDOW * 5)
    if error.auth_failed:
        fresh = " even with a fresh access token" if refreshed else ""
        advice = provider_for(mailbox).refused_advice(mailbox, SMTP)
        return SendFailure(f"The SMTP server refused the login of {mailbox.email_address}{fresh} ({text}). "
                           f"{advice}, then click Retry.", permanent=error.permanent)
    if error.permanent:
        return SendFailure(f"The server refused the message: {text}", permanent=True)
    return SendFailure(text, permanent=False)


# -- the copy in Sent --------------------------------------------------------------------------


def save_pending_sent_copy(message_id: int) -> str:
    """For a handed-out copy (after a stopped worker, or asked for again): save it unless it was
    saved meanwhile."""
    message = OutgoingMessage.objects.select_related("mailbox").filter(
        pk=message_id, state=OutgoingMessage.State.SENT, sent_copy=OutgoingMessage.CopyState.PENDING
    ).first()
    if message is None:
        return "skipped"
    save_sent_copy(message)
    return "saved" if message.sent_copy == OutgoingMessage.CopyState.SAVED else "failed"


def save_sent_copy(message: OutgoingMessage) -> None:
    """File the sent message in the mailbox's Sent folder, read (\\Seen). A failure is recorded on
    the message and changes nothing else: the message went out."""
    mailbox = message.mailbox
    try:
        login = imap_login(mailbox)
        folder = _sent_folder(mailbox, login)
        if folder is None:
            actions.record_sent_copy(message, f"No Sent folder was found in {mailbox.email_address}, so no copy "
                                              "was saved there.")
            return
        imap.append_message(login, folder, mime.with_bcc(bytes(message.mime), message.bcc), ("\\Seen",))
    except (imap.ImapError, MailboxUnavailable, MicrosoftError) as exc:
        text = exc.message if isinstance(exc, imap.ImapError | MicrosoftError) else str(exc)
        logger.warning("The Sent copy of outgoing message %s was not saved: %s", message.pk, text)
        actions.record_sent_copy(message, f"The message was sent, but its copy could not be saved in Sent: {text}")
        return
    except Exception:
        logger.exception("Saving the Sent copy of outgoing message %s failed unexpectedly", message.pk)
        actions.record_sent_copy(message, "The message was sent, but an unexpected error kept its copy out of Sent.")
        return
    actions.record_sent_copy(message)


def _sent_folder(mailbox: Mailbox, login: ServerLogin) -> str | None:
    """The folder chosen for it in the folder selection (Mailbox.sent_folder_name), else the folder
    marked \\Sent (SPECIAL-USE), else one named "Sent Items" or "Sent": from the folders the sync
    knows, else from the server's list. A chosen folder gone from the server gives way to the
    automatic one rather than the copy being lost."""
    known = list(Folder.objects.filter(mailbox=mailbox, exists_on_server=True).values_list("name", "special_use"))
    if not known:
        known = [(folder.name, folder.special_use) for folder in imap.list_folders(login) if folder.selectable]
    chosen = mailbox.sent_folder_name
    if chosen:
        if any(name == chosen for name, _use in known):
            return chosen
        logger.warning("The Sent folder chosen for mailbox %s is no longer on the server; the copy goes to the "
                       "automatic one.", mailbox.pk)
    for name, special_use in known:
        if special_use.lower() == "\\sent":
            return name
    names = {name.lower(): name for name, _use in known}
    return next((names[candidate] for candidate in SENT_NAMES if candidate in names), None)
