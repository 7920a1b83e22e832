"""Reads of the Microsoft integration for pages of other apps."""

from __future__ import annotations

from django.conf import settings

from inboxbridge.microsoft import client
from inboxbridge.microsoft.config import load_config


def system_information_rows() -> list[tuple[str, str]]:
    """For System Information: the integration's state and whether the identity platform answers."""
    config = load_config()
    reachable, detail = client.discovery_answers(settings.MICROSOFT_AUTHORITY_HOST, config.tenant_id)
    integration = "configured" if config.is_complete else "not configured"
    integration += ", enabled" if config.email_sync_enabled else ", disabled"
    return [
        ("Microsoft integration", integration),
        ("Authority host", settings.MICROSOFT_AUTHORITY_HOST),
        ("Discovery document", ("answers: " if reachable else "does not answer: ") + detail),
    ]
