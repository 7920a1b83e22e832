"""The page a connect link opens, `/connect/<secret>`. No inboxbridge sign-in is needed: the link is
the capability. The page says who asks to connect the opener's Office 365 mailbox and who will read
its mail; only the opener's Continue (a POST) goes to Microsoft. Never an automatic redirect: a
link sent to someone cannot hand their mailbox over without them being told who gets it."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from inboxbridge.api import actions, connect_flow, queries
from inboxbridge.api.models import ApiToken, ConnectLink
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import load_config, mail_scopes
from inboxbridge.microsoft.errors import MicrosoftError

# Why a link does not open, with the status of its page.
GONE_STATUS = {"unknown": 404, "used": 410, "expired": 410, "withdrawn": 410, "unavailable": 409}


def _gone(request: HttpRequest, why: str) -> HttpResponse:
    return render(request, "api/connect_status.html", {"gone": why}, status=GONE_STATUS[why])


@never_cache
@require_http_methods(["GET", "POST"])
def connect_link(request: HttpRequest, secret: str) -> HttpResponse:
    link = queries.connect_link_by_secret(secret)
    if link is None:
        return _gone(request, "unknown")
    if why := queries.link_gone(link, timezone.now()):
        return _gone(request, why)
    config = load_config()
    if not config.email_sync_enabled:
        return _gone(request, "unavailable")
    if request.method == "GET":
        return render(request, "api/connect_link.html", {
            "link": link, "owner": link.owner, "redirect_host": urlsplit(link.redirect_url).netloc,
            "can_send": ApiToken.Scope.MAIL_SEND in link.token.scopes,
        })
    if not actions.use_connect_link(link):  # a second Continue, or one racing this one
        return _gone(request, _why_not(link))
    if request.POST.get("answer") == "decline":
        return connect_flow.refused(request, link, connect_flow.DECLINED,
                                    "The person who opened the link chose not to connect their mailbox.")

    def could_not_start(error: MicrosoftError) -> HttpResponse:
        return connect_flow.refused(request, link, error.error, f"Could not start the sign-in at Microsoft. "
                                                                f"{error.message}")

    return flows.start(request, connect_flow.KIND, mail_scopes(), on_failure=could_not_start,
                       login_hint=link.login_hint, config=config, link_id=link.pk)


def _why_not(link: ConnectLink) -> str:
    link.refresh_from_db(fields=["used_at", "expires_at"])
    return queries.link_gone(link, timezone.now()) or "used"
