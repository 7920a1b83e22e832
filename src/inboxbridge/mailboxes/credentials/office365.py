"""Office 365 mailboxes connected by their user: XOAUTH2 with the user's delegated access token
(tokens.py refreshes it under the mailbox's row lock), on the deployment's Microsoft servers.

The hosts come from the deployment's settings, not from a user, so they are not vetted.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings

from inboxbridge.mailboxes import tokens
from inboxbridge.mailboxes.credentials.base import CredentialProvider
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.login import IMAP, ServerLogin, Service

PERMISSIONS = {"imap": "IMAP.AccessAsUser.All", "smtp": "SMTP.Send"}


class Office365Provider(CredentialProvider):
    kind: ClassVar[str] = Mailbox.AccountType.OFFICE365
    renewable = True

    def login(self, mailbox: Mailbox, service: Service, *, force_refresh: bool = False) -> ServerLogin:
        if service == IMAP:
            host, port, security = settings.MICROSOFT_IMAP_HOST, settings.MICROSOFT_IMAP_PORT, "ssl"
        else:
            host, port, security = settings.MICROSOFT_SMTP_HOST, settings.MICROSOFT_SMTP_PORT, "starttls"
        return ServerLogin(host=host, port=port, security=security, username=self.username(mailbox, service),
                           mechanism="XOAUTH2", secret=tokens.access_token_for(mailbox, force_refresh=force_refresh))

    def username(self, mailbox: Mailbox, service: Service) -> str:
        """XOAUTH2's `user=`: the mailbox's own address, whose token this is."""
        return mailbox.email_address

    def refused_advice(self, mailbox: Mailbox, service: Service) -> str:
        return (f"Check that the app registration has the delegated {PERMISSIONS[service]} permission with "
                "consent and that the mailbox has an Exchange Online license")
