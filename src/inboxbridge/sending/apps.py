from __future__ import annotations

from django.apps import AppConfig


class SendingConfig(AppConfig):
    name = "inboxbridge.sending"
    label = "sending"
