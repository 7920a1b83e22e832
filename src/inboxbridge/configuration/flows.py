"""The OAuth flows that finish on the Microsoft Settings page: the Enable check and admin consent."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from inboxbridge.configuration import actions
from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError, from_result

SETTINGS_PAGE = "configuration:microsoft"


@flows.register("integration_check")
def finish_integration_check(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not request.user.is_staff:
        messages.error(request, "Only administrators can enable the integration.")
        return redirect("home")
    config = load_config()
    try:
        if "error" in answer:
            raise from_result(answer)
        if not answer.get("code"):
            raise MicrosoftError("no_code", "Microsoft's answer carried no authorization code. Click Enable again.")
        if pending.payload.get("fingerprint") != config.fingerprint:
            raise MicrosoftError("changed", "The settings changed during the authorization. Click Enable again.")
        client.finish_flow(config, pending.msal_flow, answer)
    except MicrosoftError as error:
        messages.error(request, f"Authorization failed; email sync was not enabled. {error.message}")
        return redirect(SETTINGS_PAGE)
    actions.enable_email_sync(request.user, config.fingerprint)
    messages.success(request, "Authorization was successful. Office 365 email sync is enabled.")
    return redirect(SETTINGS_PAGE)


@flows.register("admin_consent")
def finish_admin_consent(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if "error" in answer:
        messages.error(request, f"Admin consent was not granted. {from_result(answer).message}")
    elif answer.get("admin_consent", "").lower() == "true":
        messages.success(request, "An administrator granted consent for the whole directory.")
    else:
        messages.error(request, "Microsoft's answer did not confirm the admin consent.")
    return redirect(SETTINGS_PAGE)
