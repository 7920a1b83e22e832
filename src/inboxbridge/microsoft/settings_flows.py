"""The flows that finish on the Microsoft Settings page: the Enable check and admin consent.

Registered with `flows` from `MicrosoftConfig.ready()`, like the flows other apps finish.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from inboxbridge.microsoft import actions, flows
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError

SETTINGS_PAGE = "microsoft:settings"
INTEGRATION_CHECK = "integration_check"
ADMIN_CONSENT = "admin_consent"


@flows.register(INTEGRATION_CHECK)
def finish_integration_check(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not request.user.is_staff:
        messages.error(request, "Only administrators can enable the integration.")
        return redirect("home")
    config = load_config()
    try:
        flows.redeem(pending, answer, again="Click Enable again.", config=config,
                     fingerprint=str(pending.payload.get("fingerprint", "")))
    except MicrosoftError as error:
        messages.error(request, f"Authorization failed; email sync was not enabled. {error.message}")
        return redirect(SETTINGS_PAGE)
    actions.enable_email_sync(request.user, config.fingerprint)
    messages.success(request, "Authorization was successful. Office 365 email sync is enabled.")
    return redirect(SETTINGS_PAGE)


@flows.register(ADMIN_CONSENT)
def finish_admin_consent(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if (refused := flows.refusal(answer)) is not None:
        messages.error(request, f"Admin consent was not granted. {refused.message}")
    elif answer.get("admin_consent", "").lower() == "true":
        messages.success(request, "An administrator granted consent for the whole directory.")
    else:
        messages.error(request, "Microsoft's answer did not confirm the admin consent.")
    # The page the consent was started from (a path this server reversed, kept in the session).
    back = str(pending.payload.get("back") or "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else SETTINGS_PAGE)
