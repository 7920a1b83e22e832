"""Password accounts ("Other"): the servers, user name and password the user typed and saved.

The servers are vetted right before every login (`server_policy.vet_server`: the administrator's
setting, then the network guard), since their DNS answers may change after the account was saved,
and the login carries the addresses vetted: the connection goes there and nowhere else.
"""

from __future__ import annotations

from typing import ClassVar

from inboxbridge.mailboxes.credentials.base import CredentialProvider
from inboxbridge.mailboxes.messages import settings_place
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.server_policy import vet_server
from inboxbridge.mailserver.login import IMAP, ServerLogin, Service


class PasswordProvider(CredentialProvider):
    kind: ClassVar[str] = Mailbox.AccountType.OTHER
    servers_typed_by_user = True

    def login(self, mailbox: Mailbox, service: Service, *, force_refresh: bool = False) -> ServerLogin:
        # force_refresh: a password has no fresher version; the stored one is used again.
        if service == IMAP:
            host, port = mailbox.imap_host, mailbox.imap_port or (993 if mailbox.imap_ssl else 143)
            security = "ssl" if mailbox.imap_ssl else "starttls"
        else:
            host, port = mailbox.smtp_host, mailbox.smtp_port or 587
            security = mailbox.smtp_security or "starttls"
        addresses = vet_server(host, port)
        return ServerLogin(host=host, port=port, security=security,
                           username=mailbox.username or mailbox.email_address, mechanism="PLAIN",
                           secret=mailbox.password, addresses=addresses)

    def refused_advice(self, mailbox: Mailbox, service: Service) -> str:
        return f"Check the user name and password in {settings_place(mailbox)}"
