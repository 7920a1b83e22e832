"""System checks of the mailboxes app's deployment settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from inboxbridge.lib.netguard import parse_host_patterns


@register("inboxbridge")
def check_other_account_servers(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        parse_host_patterns(settings.OTHER_ACCOUNTS_ALLOWED_HOSTS)
    except ValueError as wrong:
        return [Error(f"INBOXBRIDGE_OTHER_ACCOUNTS_ALLOWED_HOSTS: {wrong}", id="inboxbridge.E004")]
    return []
