"""System checks for deployment settings, as Django's own contrib apps do."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register("inboxbridge")
def check_settings(app_configs: Any, **kwargs: Any) -> list[Any]:
    problems: list[Any] = [Error(problem, hint="Correct it in the environment or the .env file.", id="inboxbridge.E007")
                           for problem in getattr(settings, "SETTING_PROBLEMS", [])]
    host = settings.MICROSOFT_AUTHORITY_HOST
    if not host.startswith("https://"):
        problems.append(Error(
            "INBOXBRIDGE_MICROSOFT_AUTHORITY_HOST must be an https:// URL.", id="inboxbridge.E001",
        ))
    if settings.CA_BUNDLE and not __import__("os").path.isfile(settings.CA_BUNDLE):
        problems.append(Error(f"INBOXBRIDGE_CA_BUNDLE points to a missing file: {settings.CA_BUNDLE}",
                              id="inboxbridge.E002"))
    if settings.BASE_URL and not settings.BASE_URL.startswith(("http://", "https://")):
        problems.append(Error("INBOXBRIDGE_BASE_URL must start with http:// or https://", id="inboxbridge.E003"))
    if settings.BASE_URL.startswith("http://") and "localhost" not in settings.BASE_URL \
            and "127.0.0.1" not in settings.BASE_URL:
        problems.append(Warning(
            "INBOXBRIDGE_BASE_URL is http:// on a host other than localhost: Microsoft Entra ID refuses such "
            "Redirect URIs.", id="inboxbridge.W001",
        ))
    return problems
