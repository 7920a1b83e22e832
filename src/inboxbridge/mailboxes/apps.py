from __future__ import annotations

from django.apps import AppConfig


class MailboxesConfig(AppConfig):
    name = "inboxbridge.mailboxes"
    label = "mailboxes"

    def ready(self) -> None:
        from inboxbridge.mailboxes import flows  # noqa: F401  (registers the connect flow)
