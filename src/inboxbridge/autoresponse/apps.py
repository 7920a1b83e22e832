from __future__ import annotations

from django.apps import AppConfig


class AutoresponseConfig(AppConfig):
    name = "inboxbridge.autoresponse"
    label = "autoresponse"
