from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "inboxbridge.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from inboxbridge.api import connect_flow  # noqa: F401  (registers the connect link's flow; needs loaded apps)
