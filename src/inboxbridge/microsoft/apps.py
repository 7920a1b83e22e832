from __future__ import annotations

from django.apps import AppConfig


class MicrosoftConfig(AppConfig):
    name = "inboxbridge.microsoft"
    label = "microsoft"

    def ready(self) -> None:
        # Imported once the app registry is ready: these modules use models.
        from inboxbridge.configuration import system_info
        from inboxbridge.microsoft import queries, settings_flows  # noqa: F401  (registers the settings page's flows)

        system_info.register(queries.system_information_rows)
