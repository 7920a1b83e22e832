from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "inboxbridge.accounts"
    label = "accounts"
    verbose_name = "Accounts and audit log"

    def ready(self) -> None:
        from inboxbridge.accounts import audit  # noqa: F401  (connects the sign-in receivers)
