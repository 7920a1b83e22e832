from __future__ import annotations

from django.apps import AppConfig


class MicrosoftConfig(AppConfig):
    name = "inboxbridge.microsoft"
    label = "microsoft"
