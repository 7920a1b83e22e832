"""How to log in to a mailbox's IMAP and SMTP servers: host, port, security and a fresh credential.

Office 365 mailboxes get an access token (refreshed when needed, see tokens.py); "Other" mailboxes
their stored password, once their server has passed `server_policy.vet_server` (the administrator's
setting and the network guard), here, right before every connection: a refusal raises
`ServerRefused`, a `MailboxUnavailable` the sync and the sender already report as the mailbox's
status. The sync engine and the sender only ever see a `ServerLogin`.
"""

from __future__ import annotations

from django.conf import settings

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.server_policy import vet_server
from inboxbridge.mailserver.login import ServerLogin

__all__ = ["ServerLogin", "imap_login", "smtp_login"]


def imap_login(mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
    if mailbox.account_type == Mailbox.AccountType.OFFICE365:
        from inboxbridge.mailboxes.tokens import access_token_for

        return ServerLogin(
            host=settings.MICROSOFT_IMAP_HOST,
            port=settings.MICROSOFT_IMAP_PORT,
            security="ssl",
            username=mailbox.email_address,
            mechanism="XOAUTH2",
            secret=access_token_for(mailbox, force_refresh=force_refresh),
        )
    port = mailbox.imap_port or (993 if mailbox.imap_ssl else 143)
    vet_server(mailbox.imap_host, port)
    return ServerLogin(
        host=mailbox.imap_host,
        port=port,
        security="ssl" if mailbox.imap_ssl else "starttls",
        username=mailbox.username or mailbox.email_address,
        mechanism="PLAIN",
        secret=mailbox.password,
    )


def smtp_login(mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
    if mailbox.account_type == Mailbox.AccountType.OFFICE365:
        from inboxbridge.mailboxes.tokens import access_token_for

        return ServerLogin(
            host=settings.MICROSOFT_SMTP_HOST,
            port=settings.MICROSOFT_SMTP_PORT,
            security="starttls",
            username=mailbox.email_address,
            mechanism="XOAUTH2",
            secret=access_token_for(mailbox, force_refresh=force_refresh),
        )
    port = mailbox.smtp_port or 587
    vet_server(mailbox.smtp_host, port)
    return ServerLogin(
        host=mailbox.smtp_host,
        port=port,
        security=mailbox.smtp_security or "starttls",
        username=mailbox.username or mailbox.email_address,
        mechanism="PLAIN",
        secret=mailbox.password,
    )
