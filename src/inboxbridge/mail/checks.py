"""System checks of the mail storage settings: a wrong value stops the start with its name."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, register

from inboxbridge.lib.setting_checks import one_of

ATTACHMENT_STORES = ("files", "database")


@register("inboxbridge")  # `inboxbridge manage check --tag inboxbridge` runs only ours
def check_attachment_store(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    return one_of("INBOXBRIDGE_ATTACHMENT_STORE", settings.ATTACHMENT_STORE, ATTACHMENT_STORES,
                  "an attachment store", "inboxbridge.E006")
