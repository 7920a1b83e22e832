from __future__ import annotations

from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "inboxbridge.mailboxes"
    label = "mailboxes"

    def ready(self) -> None:
        # Registering the checks, the connect flows and the delegate-departure signals needs loaded apps.
        from inboxbridge.mailboxes import checks, flows, signals  # noqa: F401
