from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.configuration import store
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import load_config
from inboxbridge.signin import actions, queries
from inboxbridge.signin.flows import LINK, SIGN_IN, pending_link
from inboxbridge.signin.forms import SignInSettingsForm
from inboxbridge.signin.matching import MULTI_TENANT_AUTHORITIES
from inboxbridge.signin.models import MicrosoftLogin
from inboxbridge.signin.options import SIGN_IN_ENABLED


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """The login page's "Sign in with Microsoft" button."""
    if not queries.sign_in_available():
        messages.error(request, "Sign in with Microsoft is not available. Sign in with your username and password.")
        return redirect("accounts:login")
    # No scope but the sign-in itself (MSAL adds openid, profile, offline_access).
    return flows.start(request, SIGN_IN, [], failure_page="accounts:login", failure="Could not reach Microsoft.",
                       next=request.POST.get("next", ""))


@login_required
def mine(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "signin/mine.html", {
        "logins": queries.logins_of(request.user.pk), "available": queries.sign_in_available(),
    })


@login_required
@require_POST
def link(request: AuthenticatedRequest) -> HttpResponse:
    if not queries.sign_in_available():
        messages.error(request, "Sign in with Microsoft is switched off: an administrator can enable it.")
        return redirect("signin:mine")
    return flows.start(request, LINK, [], failure_page="signin:mine", failure="Could not reach Microsoft.")


@login_required
def confirm(request: AuthenticatedRequest) -> HttpResponse:
    """The user's explicit choice: the account they just signed in with at Microsoft may sign in as them."""
    identity = pending_link(request, take=request.method == "POST")
    if identity is None:
        messages.error(request, "No Microsoft account is waiting to be linked (or it waited too long). "
                                "Click Link a Microsoft account to start again.")
        return redirect("signin:mine")
    if request.method != "POST":
        return render(request, "signin/confirm.html", {"account": identity})
    if "confirm" not in request.POST:
        messages.info(request, f"{identity.username} was not linked.")
        return redirect("signin:mine")
    if problem := queries.link_refusal(request.user.pk, identity):
        messages.error(request, problem)
        return redirect("signin:mine")
    try:
        actions.link_microsoft_login(request.user, identity, origin=MicrosoftLogin.Origin.USER)
    except actions.AlreadyLinked:
        messages.error(request, f"{identity.username} already signs in as another user here; it was not linked.")
        return redirect("signin:mine")
    messages.success(request, f"You can now sign in with the Microsoft account {identity.username}.")
    return redirect("signin:mine")


@login_required
@require_POST
def unlink(request: AuthenticatedRequest, login_id: int) -> HttpResponse:
    removed = actions.unlink_microsoft_login(request.user, login_id)
    if removed is not None:
        messages.success(request, f"{removed.username} can no longer sign in as you.")
    return redirect("signin:mine")


@admin_required
def settings_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SignInSettingsForm(request.POST)
        if form.is_valid():
            changed = actions.save_sign_in_settings(request.user, enabled=form.cleaned_data["enabled"],
                                                    domains=form.cleaned_data["domains"],
                                                    tenants=form.cleaned_data["tenants"])
            messages.success(request, "Saved." if changed else "Nothing changed.")
            return redirect("signin:settings")
    else:
        form = SignInSettingsForm(initial={"enabled": store.get(SIGN_IN_ENABLED) == "1",
                                           "domains": ", ".join(queries.allowed_domains()),
                                           "tenants": ", ".join(queries.allowed_tenants())})
    config = load_config()
    return render(request, "signin/settings.html", {
        "form": form, "redirect_uri": flows.redirect_uri(request), "verified": config.credentials_verified,
        "tenant": config.tenant_id, "multi_tenant": config.tenant_id.lower() in MULTI_TENANT_AUTHORITIES,
        "no_tenant_listed": not queries.allowed_tenants(),
    })
