"""Office 365 mailboxes opened by the application itself (client credentials), no person signing in.

The token comes from the app's own credential (its client secret or certificate, Microsoft
Settings) for `https://outlook.office365.com/.default`; IMAP and SMTP log in with XOAUTH2 `user=`
the mailbox's address. What Exchange Online lets that token do is decided there, not here: the
application permissions IMAP.AccessAsApp / SMTP.SendAsApp with admin consent, the app's service
principal registered in Exchange (New-ServicePrincipal) and granted FullAccess on the mailbox,
and Send As to send from it. The token is cached per process for most of its hour
(`client.acquire_app_token`) and a refused one is replaced once (`renewable`).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings

from inboxbridge.mailboxes import messages
from inboxbridge.mailboxes.credentials.base import CredentialProvider
from inboxbridge.mailboxes.credentials.shared import grant_full_access_command, grant_send_as_command
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.login import IMAP, ServerLogin, Service
from inboxbridge.microsoft import client
from inboxbridge.microsoft.config import APP_IMAP_ROLE, APP_SMTP_ROLE, app_mail_scopes, load_config

SERVICE_PRINCIPAL = "the application's service principal"
OBJECT_ID_PLACEHOLDER = "<Enterprise application Object ID>"


def exchange_powershell(tenant_id: str, client_id: str, object_id: str, mailbox: str) -> list[str]:
    """The Exchange Online PowerShell an Exchange administrator runs once per app (the first two
    lines) and once per mailbox (the grants), with this deployment's values. The parameter names
    are those of Microsoft's IMAP/POP/SMTP OAuth guide: `New-ServicePrincipal -AppId -ObjectId`
    (older guides write `-ServiceId` for the same value). The grants name the service principal by
    the Enterprise application's Object ID."""
    principal = object_id or OBJECT_ID_PLACEHOLDER
    return [
        f"Connect-ExchangeOnline -Organization {tenant_id or '<Directory (tenant) ID>'}",
        f"New-ServicePrincipal -AppId {client_id or '<Application (client) ID>'} -ObjectId {principal} "
        "-DisplayName inboxbridge",
        grant_full_access_command(mailbox, principal),
        grant_send_as_command(mailbox, principal),
    ]


def exchange_rights_text(mailbox: str, service: Service) -> str:
    """What Exchange Online must grant the app for `service` on `mailbox`, and the usual mistake."""
    if service == IMAP:
        return (f"Exchange Online refused the application's token for {mailbox}: {SERVICE_PRINCIPAL} is not "
                "registered in Exchange (New-ServicePrincipal), or was registered with the app registration's "
                "Object ID instead of the Enterprise application's, or FullAccess is missing on "
                f"{mailbox} (Add-MailboxPermission). The exact commands are on the system mailbox's page")
    return (f"Exchange Online refused to let the application send as {mailbox}: Send As is missing for "
            f"{SERVICE_PRINCIPAL} (Add-RecipientPermission ... -AccessRights SendAs), or it is not registered "
            "in Exchange. The exact commands are on the system mailbox's page")


def missing_role_text(role: str) -> str:
    return (f"The application's token carries no {role} role: add the application permission {role} of "
            "Office 365 Exchange Online under API permissions in Azure, then grant admin consent (the link is on "
            "the system mailbox's page)")


class AppOnlyProvider(CredentialProvider):
    kind: ClassVar[str] = Mailbox.AccountType.OFFICE365_APP
    renewable = True

    def login(self, mailbox: Mailbox, service: Service, *, force_refresh: bool = False) -> ServerLogin:
        config = load_config()
        if not config.email_sync_enabled:
            raise MailboxUnavailable(messages.OFFICE365_DISABLED)
        token = client.acquire_app_token(config, app_mail_scopes(), force_refresh=force_refresh)
        if service == IMAP:
            host, port, security = settings.MICROSOFT_IMAP_HOST, settings.MICROSOFT_IMAP_PORT, "ssl"
        else:
            host, port, security = settings.MICROSOFT_SMTP_HOST, settings.MICROSOFT_SMTP_PORT, "starttls"
        return ServerLogin(host=host, port=port, security=security, username=mailbox.email_address,
                           mechanism="XOAUTH2", secret=token)

    def refused_advice(self, mailbox: Mailbox, service: Service) -> str:
        role = APP_IMAP_ROLE if service == IMAP else APP_SMTP_ROLE
        right = "FullAccess on the mailbox" if service == IMAP else "Send As on the mailbox"
        return (f"Check that the application permission {role} has admin consent and that {SERVICE_PRINCIPAL} is "
                "registered in Exchange Online with the Enterprise application's Object ID (not the app "
                f"registration's) and holds {right}")

    def explain_refusal(self, mailbox: Mailbox, service: Service, detail: str) -> str:
        return f"{exchange_rights_text(mailbox.email_address, service)}. ({detail.strip().rstrip('.')}.)"
