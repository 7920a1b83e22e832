"""System checks of the background-work settings: a wrong value stops the start with its name."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, register

from inboxbridge.lib.setting_checks import one_of

TASKS_BACKENDS = ("database", "redis", "immediate")


@register("inboxbridge")  # `inboxbridge manage check --tag inboxbridge` runs only ours
def check_tasks_backend(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    return one_of("INBOXBRIDGE_TASKS_BACKEND", settings.TASKS_BACKEND, TASKS_BACKENDS, "a task backend",
                  "inboxbridge.E005")
