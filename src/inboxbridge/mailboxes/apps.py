from __future__ import annotations

from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "inboxbridge.mailboxes"
    label = "mailboxes"

    def ready(self) -> None:
        from inboxbridge.mailboxes import checks, flows  # noqa: F401  (register the checks and the connect flow)
