from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MailConfig(AppConfig):
    name = "inboxbridge.mail"
    label = "mail"

    def ready(self) -> None:
        from inboxbridge.mail import checks  # noqa: F401  (registers its system checks)
        from inboxbridge.mail.search_schema import repair_search_index  # models: only once apps are loaded

        post_migrate.connect(repair_search_index, sender=self, dispatch_uid="inboxbridge.mail.repair_search_index")
