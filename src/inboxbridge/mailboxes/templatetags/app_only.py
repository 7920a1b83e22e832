"""{% app_only_setup mailbox as setup %}: what the app-only section of a system mailbox's page shows
(mailboxes/_app_only.html): this deployment's tenant and app, the Enterprise application's Object ID
when an administrator saved it, the Exchange Online PowerShell with those values filled in, and the
application permissions to add in Azure."""

from __future__ import annotations

from typing import Any

from django import template

from inboxbridge.configuration import store
from inboxbridge.mailboxes.credentials.app_only import exchange_powershell
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import ENTERPRISE_APP_OBJECT_ID, app_permissions, load_config

register = template.Library()


@register.simple_tag
def app_only_setup(mailbox: Mailbox) -> dict[str, Any]:
    config = load_config()
    object_id = store.get(ENTERPRISE_APP_OBJECT_ID)
    return {
        "tenant_id": config.tenant_id,
        "client_id": config.client_id,
        "object_id": object_id,
        "credential": "certificate" if config.uses_certificate else "client secret",
        "configured": config.is_complete,
        "enabled": config.email_sync_enabled,
        "permissions": app_permissions(),
        "powershell": exchange_powershell(config.tenant_id, config.client_id, object_id, mailbox.email_address),
    }
