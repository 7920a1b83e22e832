"""A Django email backend that sends through one of inboxbridge's system mailboxes, so a deployment
needs no other relay: `EMAIL_BACKEND = "inboxbridge.sending.email_backend.SystemMailboxEmailBackend"`
(inboxbridge's own default; host applications built on it can set the same).

The mailbox is the system mailbox whose address INBOXBRIDGE_EMAIL_MAILBOX names, else the one an
administrator picked in System > Configuration > Email Configuration > Application Email (the
environment wins). It logs in as it does for the outbox, through `credentials.smtp_login` (XOAUTH2
with its token for the Office 365 kinds, the password for Other accounts) and the SMTP door, and
every message goes out From that mailbox: Exchange refuses any other sender. A refused cached token
is renewed once, as in `delivery.py`.

Errors: with `fail_silently` nothing is raised (the count of messages sent is returned);
otherwise `ApplicationEmailError`, whose text says what is wrong and what to do and never holds a
token or password (the doors only carry safe texts)."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from inboxbridge.configuration.store import Option, stored_value
from inboxbridge.mailboxes.credentials import provider_for, smtp_login
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tokens import MailboxUnavailable
from inboxbridge.mailserver import smtp
from inboxbridge.mailserver.login import SMTP, ServerLogin
from inboxbridge.microsoft.errors import (
    MicrosoftError,
    send_as_denied,
    send_as_denied_text,
    smtp_auth_disabled,
    smtp_auth_disabled_text,
)

BACKEND_PATH = "inboxbridge.sending.email_backend.SystemMailboxEmailBackend"
ENVIRONMENT_VARIABLE = "INBOXBRIDGE_EMAIL_MAILBOX"
PAGE = "System > Configuration > Email Configuration > Application Email"
# The address of the chosen system mailbox (the page's choice; the environment's wins over it).
APPLICATION_MAILBOX = Option("email.application_mailbox", "Application email mailbox", "APPLICATION_EMAIL_MAILBOX")


class ApplicationEmailError(Exception):
    """The application's email could not be sent; the text is safe to show and to log."""


def chosen_address() -> str:
    """The address of the mailbox that sends the application's email; "" when none is chosen."""
    return (settings.APPLICATION_EMAIL_MAILBOX or stored_value(APPLICATION_MAILBOX) or "").strip()


def set_by_environment() -> bool:
    return bool(settings.APPLICATION_EMAIL_MAILBOX)


def sends_with_this_backend() -> bool:
    """Whether Django's mail goes through this backend (another backend needs no mailbox here)."""
    return settings.EMAIL_BACKEND == BACKEND_PATH


def application_mailbox(address: str | None = None) -> Mailbox:
    """The system mailbox that sends, or ApplicationEmailError saying why none can."""
    address = (address or chosen_address()).strip()
    where = f"{ENVIRONMENT_VARIABLE} names" if set_by_environment() else f"{PAGE} names"
    if not address:
        raise ApplicationEmailError(f"No mailbox is chosen to send the application's email. Pick a system mailbox "
                                    f"in {PAGE}, or set {ENVIRONMENT_VARIABLE} to its address.")
    mailbox = Mailbox.objects.filter(owner__isnull=True, active=True, email_address__iexact=address).first()
    if mailbox is None:
        raise ApplicationEmailError(f"{where} {address}, which is not a system mailbox in use. Add it in System "
                                    f"Mailboxes or choose another one in {PAGE}.")
    if mailbox.needs_reconnect:
        raise ApplicationEmailError(f"The system mailbox {mailbox.label} ({mailbox.email_address}), which sends the "
                                    "application's email, needs to be reconnected: its sign-in was refused. Open it "
                                    "in System Mailboxes and click Reconnect.")
    if mailbox.account_type == Mailbox.AccountType.OTHER and not mailbox.smtp_host:
        raise ApplicationEmailError(f"The system mailbox {mailbox.label} ({mailbox.email_address}) has no SMTP "
                                    "server, so it cannot send the application's email. Add one in its settings.")
    return mailbox


class SystemMailboxEmailBackend(BaseEmailBackend):
    """Sends Django's EmailMessages through a system mailbox. `mailbox_address` picks another system
    mailbox than the configured one (e.g. `get_connection(mailbox_address=...)`)."""

    def __init__(self, fail_silently: bool = False, *, mailbox_address: str | None = None, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.mailbox_address = mailbox_address

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        try:
            mailbox = application_mailbox(self.mailbox_address)
        except ApplicationEmailError:
            if self.fail_silently:
                return 0
            raise
        sent = 0
        for message in email_messages:
            try:
                sent += send_through(mailbox, message)
            except ApplicationEmailError:
                if not self.fail_silently:
                    raise
        return sent


def send_through(mailbox: Mailbox, message: EmailMessage) -> int:
    """Submit one message from `mailbox`; 1 when it went out, 0 when it had no recipients."""
    recipients = message.recipients()
    if not recipients:
        return 0
    mime = message.message()
    del mime["From"]
    mime["From"] = sender_header(mailbox, message.from_email)
    if not any(name.lower() == "message-id" for name in message.extra_headers):
        # Django names this machine in it; the sending mailbox's domain is the one mail filters expect.
        del mime["Message-ID"]
        mime["Message-ID"] = make_msgid(domain=mailbox.email_address.rpartition("@")[2])
    data = mime.as_bytes(linesep="\r\n")
    for force_refresh in (False, True):
        login = _login(mailbox, force_refresh=force_refresh)
        try:
            smtp.send(login, mailbox.email_address, recipients, data)
            return 1
        except smtp.SmtpError as error:
            renewable = error.auth_failed and provider_for(mailbox).renewable and not smtp_auth_disabled(str(error))
            if force_refresh or not renewable:
                raise ApplicationEmailError(_refusal(mailbox, error, refreshed=force_refresh)) from None
    raise AssertionError("unreachable: the second attempt returns or raises")


def sender_header(mailbox: Mailbox, from_email: str | None) -> str:
    """From: the mailbox's address, keeping the display name the message asked for (or the label);
    another address would be refused by Exchange (SendAsDenied)."""
    name, address = parseaddr(from_email or "")
    if address.lower() == mailbox.email_address.lower() and from_email:
        return from_email
    return formataddr((name or mailbox.label, mailbox.email_address))


def _login(mailbox: Mailbox, *, force_refresh: bool) -> ServerLogin:
    try:
        return smtp_login(mailbox, force_refresh=force_refresh)
    except MailboxUnavailable as exc:
        raise ApplicationEmailError(f"The system mailbox {mailbox.email_address} cannot send the application's "
                                    f"email: {exc}") from None
    except MicrosoftError as exc:
        raise ApplicationEmailError(f"Could not get an access token from Microsoft for {mailbox.email_address}, "
                                    f"which sends the application's email: {exc.message}") from None


def _refusal(mailbox: Mailbox, error: smtp.SmtpError, *, refreshed: bool) -> str:
    text = str(error)
    prefix = f"The application's email could not be sent through {mailbox.email_address}: "
    if smtp_auth_disabled(text):
        return prefix + smtp_auth_disabled_text(mailbox.email_address)
    if send_as_denied(text):
        return prefix + send_as_denied_text(mailbox.email_address, mailbox.signed_in_as or mailbox.email_address)
    if error.auth_failed:
        fresh = " even with a fresh access token" if refreshed else ""
        return (f"{prefix}the SMTP server refused its login{fresh} ({text}). "
                f"{provider_for(mailbox).refused_advice(mailbox, SMTP)}.")
    return prefix + text
