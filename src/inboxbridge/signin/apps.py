from __future__ import annotations

from django.apps import AppConfig


class SigninConfig(AppConfig):
    name = "inboxbridge.signin"
    label = "signin"
    verbose_name = "Sign in with Microsoft"

    def ready(self) -> None:
        from inboxbridge.signin import flows  # noqa: F401  (registers the sign-in flows)
