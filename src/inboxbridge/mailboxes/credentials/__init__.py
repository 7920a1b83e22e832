"""How a mailbox logs in to its mail servers: one credential provider per kind of account.

- base.py: the interface (`CredentialProvider`);
- password.py: "Other" accounts, a stored password on servers the user typed (vetted each time);
- office365.py: a user's delegated Office 365 token (XOAUTH2), refreshed under a row lock;
- shared.py: a shared mailbox opened with a delegate's token (Full Access; Send As to send);
- app_only.py: a mailbox opened by the application's own token (client credentials), no person.

Adding a kind of account (a delegate's token for a shared mailbox, an app-only token from a
secret or a certificate) is one module with a `CredentialProvider` subclass and one line in
`_PROVIDERS`; the sync, the sender, the folder list and the server check only call `imap_login`,
`smtp_login` or `provider_for` here and hand the `ServerLogin` to the mail-server door.
"""

from __future__ import annotations

from inboxbridge.mailboxes.credentials.app_only import AppOnlyProvider
from inboxbridge.mailboxes.credentials.base import CredentialProvider
from inboxbridge.mailboxes.credentials.office365 import Office365Provider
from inboxbridge.mailboxes.credentials.password import PasswordProvider
from inboxbridge.mailboxes.credentials.shared import SharedMailboxProvider
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tokens import MailboxUnavailable
from inboxbridge.mailserver.login import IMAP, SMTP, ServerLogin

__all__ = ["CredentialProvider", "imap_login", "provider_for", "smtp_login"]

_PROVIDERS: dict[str, CredentialProvider] = {
    provider.kind: provider for provider in (
        PasswordProvider(),
        Office365Provider(),
        SharedMailboxProvider(),
        AppOnlyProvider(),
    )
}


def provider_for(mailbox: Mailbox) -> CredentialProvider:
    try:
        return _PROVIDERS[mailbox.account_type]
    except KeyError:
        raise MailboxUnavailable(f"This server cannot connect {mailbox.email_address}: it does not know its kind "
                                 "of account. Connect the mailbox again.") from None


def imap_login(mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
    return provider_for(mailbox).login(mailbox, IMAP, force_refresh=force_refresh)


def smtp_login(mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
    return provider_for(mailbox).login(mailbox, SMTP, force_refresh=force_refresh)
