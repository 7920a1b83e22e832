from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "inboxbridge.accounts"
    label = "accounts"
    verbose_name = "Accounts and audit log"
