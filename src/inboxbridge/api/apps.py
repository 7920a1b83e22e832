from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "inboxbridge.api"
    label = "api"
    verbose_name = "REST API"
