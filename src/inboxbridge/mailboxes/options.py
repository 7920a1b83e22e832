"""The mailboxes app's options in the settings store (System > Configuration > Other Mail Servers):
whether users may add Other accounts, and to which servers. The keys never change (saved values)."""

from __future__ import annotations

from inboxbridge.configuration.store import Option

OTHER_ACCOUNTS_ENABLED = Option("other_accounts.enabled", "Allow Other accounts", "OTHER_ACCOUNTS_ENABLED")
OTHER_ACCOUNTS_ALLOWED_HOSTS = Option("other_accounts.allowed_hosts", "Allowed mail servers",
                                      "OTHER_ACCOUNTS_ALLOWED_HOSTS")
