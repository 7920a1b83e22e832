from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "inboxbridge.jobs"
    label = "jobs"
    verbose_name = "Background work: scheduler and workers"

    def ready(self) -> None:
        from inboxbridge.jobs import checks  # noqa: F401  (registers its system checks)
