"""The Test button of an app-only system mailbox: a fresh application token, then an IMAP and an
SMTP login as the mailbox, each refusal explained by its likely cause.

Microsoft's refusal to issue a token carries its AADSTS code (microsoft/errors.py). When Exchange
refuses the login, the token's `roles` claim (read without trusting it, only to choose the words)
tells a missing admin consent apart from a missing grant in Exchange Online. The hosts are the
deployment's Microsoft servers, not ones a user typed, so their answers may be shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from inboxbridge.mailboxes.credentials import imap_login, smtp_login
from inboxbridge.mailboxes.credentials.app_only import exchange_rights_text, missing_role_text
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver import imap, smtp
from inboxbridge.mailserver.login import IMAP, SMTP, ServerLogin, Service
from inboxbridge.microsoft import client
from inboxbridge.microsoft.config import APP_IMAP_ROLE, APP_SMTP_ROLE
from inboxbridge.microsoft.errors import MicrosoftError, smtp_auth_disabled, smtp_auth_disabled_text


@dataclass(frozen=True)
class Answer:
    step: str  # "Token", "IMAP" or "SMTP"
    ok: bool
    text: str


def check_app_only_mailbox(mailbox: Mailbox) -> list[Answer]:
    """Log in as `mailbox` over IMAP and SMTP with a new application token (one asked for now, so
    a consent or a grant given a minute ago counts)."""
    try:
        incoming = imap_login(mailbox, force_refresh=True)
        outgoing = smtp_login(mailbox)
    except MicrosoftError as error:
        return [Answer("Token", False, f"Microsoft issued no token for the application. {error.message}")]
    except MailboxUnavailable as error:
        return [Answer("Token", False, str(error))]
    roles = client.unverified_roles(incoming.secret)
    return [Answer("Token", True, "Microsoft issued a token for the application."),
            _imap(mailbox, incoming, roles), _smtp(mailbox, outgoing, roles)]


def _imap(mailbox: Mailbox, login: ServerLogin, roles: frozenset[str]) -> Answer:
    try:
        imap.check_login(login, timeout=float(settings.MAIL_CHECK_TIMEOUT))
    except imap.ImapError as error:
        if not error.auth_failed:
            return Answer("IMAP", False, f"IMAP check failed: {error}")
        return _refused(mailbox, IMAP, roles)
    return Answer("IMAP", True, f"IMAP: the application opened {mailbox.email_address}.")


def _smtp(mailbox: Mailbox, login: ServerLogin, roles: frozenset[str]) -> Answer:
    try:
        smtp.check_login(login, timeout=float(settings.MAIL_CHECK_TIMEOUT))
    except smtp.SmtpError as error:
        if not error.auth_failed:
            return Answer("SMTP", False, f"SMTP check failed: {error}")
        if smtp_auth_disabled(str(error)):
            return Answer("SMTP", False, smtp_auth_disabled_text(mailbox.email_address))
        return _refused(mailbox, SMTP, roles)
    except OSError:  # the goodbye after a good login broke off: smtplib's errors are OSErrors
        return Answer("SMTP", False, f"SMTP check failed: {login.host}:{login.port} broke off the connection.")
    return Answer("SMTP", True, f"SMTP: the application may send as {mailbox.email_address}.")


def _refused(mailbox: Mailbox, service: Service, roles: frozenset[str]) -> Answer:
    """Exchange refused a fresh token: consent is missing when the token lacks the service's role,
    otherwise the grant in Exchange Online is."""
    role = APP_IMAP_ROLE if service == IMAP else APP_SMTP_ROLE
    text = missing_role_text(role) if role not in roles else exchange_rights_text(mailbox.email_address, service)
    return Answer(service.upper(), False, text + ".")
