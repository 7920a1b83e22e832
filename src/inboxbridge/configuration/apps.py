from __future__ import annotations

from django.apps import AppConfig


class ConfigurationConfig(AppConfig):
    name = "inboxbridge.configuration"
    label = "configuration"

    def ready(self) -> None:
        from inboxbridge.configuration import checks  # noqa: F401  (registers the system checks)
