from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from inboxbridge.microsoft import flows
from inboxbridge.microsoft.errors import MicrosoftError

logger = logging.getLogger(__name__)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The one Redirect URI. Finds the pending flow by `state` in this session and hands over."""
    pending = flows.take(request, request.GET.get("state", ""))
    if pending is None:
        logger.warning("Refused an OAuth callback with an unknown, used or foreign state")
        return refused(
            request,
            "This sign-in answer does not belong to a sign-in started in this browser session, has already "
            "been used, or has expired. Nothing was changed. Start again from the page you came from.",
        )
    handler = flows.handler_for(pending.kind)
    if handler is None:
        messages.error(request, "This kind of authorization is no longer supported. Nothing was changed.")
        return redirect("home")
    auth_response = {key: str(value) for key, value in request.GET.items()}
    try:
        return handler(request, pending, auth_response)
    except MicrosoftError as error:
        # Each flow explains its own refusals; this catches one a flow let through, so that a hostile
        # or malformed answer is refused with its reason instead of a server error.
        logger.warning("A %s flow let a refusal through: %s", pending.kind, error.error)
        return refused(request, f"Microsoft's answer was refused. {error.message}")


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "microsoft/callback_refused.html", {"reason": reason}, status=400)
