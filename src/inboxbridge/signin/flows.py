"""The sign-in flows finishing at the one Redirect URI: signing in, and linking an account."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError, from_result
from inboxbridge.signin import actions, queries
from inboxbridge.signin.matching import decide

logger = logging.getLogger(__name__)
MY_PAGE = "signin:mine"


def _identity(answer: dict[str, str], pending: flows.PendingFlow) -> client.SignedInIdentity:
    if "error" in answer:
        raise from_result(answer)
    if not answer.get("code"):
        raise MicrosoftError("no_code", "Microsoft's answer carried no authorization code. Try again.")
    return client.finish_flow(load_config(), pending.msal_flow, answer)  # no token cache: none is kept


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "signin/refused.html", {"reason": reason}, status=403)


@flows.register("sign_in")
def finish_sign_in(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not queries.sign_in_available():
        return _refused(request, "Sign in with Microsoft is switched off. Sign in with your username and password.")
    try:
        identity = _identity(answer, pending)
    except MicrosoftError as error:
        return _refused(request, f"Microsoft did not sign you in. {error.message}")
    decision = decide(identity.tid, identity.oid, queries.sign_in_name(identity), queries.allowed_domains(),
                      queries.candidates(identity))
    user = get_user_model().objects.filter(pk=decision.user_id).first() if decision.user_id else None
    if user is None:
        logger.info("Refused a Microsoft sign-in: %s", decision.refusal or "no such user")
        return _refused(request, decision.refusal or "This Microsoft account is not linked to a user here.")
    if not user.is_active:
        return _refused(request, "This user is locked. Ask an administrator.")
    if decision.link:
        try:
            actions.link_microsoft_login(user, identity, how="first sign-in")
        except actions.AlreadyLinked:
            return _refused(request, "This Microsoft account signs in as another user.")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    actions.record_sign_in(user, identity)
    target = str(pending.payload.get("next") or "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = ""
    return redirect(target or "home")


@flows.register("sign_in_link")
def finish_link(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not request.user.is_authenticated or request.user.pk != pending.user_id:
        return redirect("accounts:login")
    try:
        identity = _identity(answer, pending)
    except MicrosoftError as error:
        messages.error(request, f"The Microsoft account was not linked. {error.message}")
        return redirect(MY_PAGE)
    try:
        actions.link_microsoft_login(request.user, identity, how="linked by the user")
    except actions.AlreadyLinked:
        messages.error(request, f"{identity.username} already signs in as another user here; it was not linked.")
        return redirect(MY_PAGE)
    messages.success(request, f"You can now sign in with the Microsoft account {identity.username}.")
    return redirect(MY_PAGE)
