from __future__ import annotations

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "inboxbridge.notifications"
    label = "notifications"
