from __future__ import annotations

from django.apps import AppConfig

from inboxbridge.lib.data_dir import prepare_data_dir


class AccountsConfig(AppConfig):
    name = "inboxbridge.accounts"
    label = "accounts"
    verbose_name = "Accounts and audit log"

    def ready(self) -> None:
        from inboxbridge.accounts import audit  # noqa: F401  (connects the sign-in receivers)

        # Every start (the inboxbridge command, a WSGI server, tests) passes here before a request,
        # a task or a database connection: the secret key that signs sessions exists from then on.
        prepare_data_dir()
