"""The sign-in flows finishing at the one Redirect URI: signing in, and linking an account.

Linking takes two steps: the round trip to Microsoft proves which account the user holds, and the
user then confirms, on a page of ours that names the account, that it may sign in as them. Until
then the account is only remembered in the session, for a few minutes.
"""

from __future__ import annotations

import logging
import time

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.errors import MicrosoftError
from inboxbridge.signin import actions, queries
from inboxbridge.signin.matching import NOT_LINKED, decide
from inboxbridge.signin.models import MicrosoftLogin

logger = logging.getLogger(__name__)
MY_PAGE = "signin:mine"
PENDING_LINK = "inboxbridge.signin.pending_link"
CONFIRM_WITHIN_SECONDS = 10 * 60
SIGN_IN = "sign_in"
LINK = "sign_in_link"


def _identity(answer: dict[str, str], pending: flows.PendingFlow) -> client.SignedInIdentity:
    return flows.redeem(pending, answer, again="Try again.")  # no token cache: none is kept


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "signin/refused.html", {"reason": reason}, status=403)


@flows.register(SIGN_IN)
def finish_sign_in(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not queries.sign_in_available():
        return refused(request, "Sign in with Microsoft is switched off. Sign in with your username and password.")
    try:
        identity = _identity(answer, pending)
    except MicrosoftError as error:
        return refused(request, f"Microsoft did not sign you in. {error.message}")
    decision = decide(identity.tid, identity.oid, queries.sign_in_name(identity), queries.policy(),
                      queries.candidates(identity))
    user = get_user_model().objects.filter(pk=decision.user_id).first() if decision.user_id else None
    if user is None:
        logger.info("Refused a Microsoft sign-in: %s", decision.refusal or "no such user")
        return refused(request, decision.refusal or NOT_LINKED)
    if not user.is_active:
        return refused(request, "This user is locked. Ask an administrator.")
    if decision.link:
        try:
            actions.link_microsoft_login(user, identity, origin=MicrosoftLogin.Origin.DOMAIN)
        except actions.AlreadyLinked:
            return refused(request, "This Microsoft account signs in as another user.")
        except actions.NotLinkable:
            return refused(request, NOT_LINKED)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    actions.record_sign_in(user, identity)
    target = str(pending.payload.get("next") or "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = ""
    return redirect(target or "home")


@flows.register(LINK)
def finish_link(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not request.user.is_authenticated or request.user.pk != pending.user_id:
        return redirect("accounts:login")
    try:
        identity = _identity(answer, pending)
    except MicrosoftError as error:
        messages.error(request, f"The Microsoft account was not linked. {error.message}")
        return redirect(MY_PAGE)
    if problem := queries.link_refusal(request.user.pk, identity):
        messages.error(request, problem)
        return redirect(MY_PAGE)
    request.session[PENDING_LINK] = {
        "tid": identity.tid, "oid": identity.oid, "username": identity.username, "name": identity.name,
        "user_id": request.user.pk, "created": time.time(),
    }
    return redirect("signin:confirm")


def pending_link(request: HttpRequest, *, take: bool = False) -> client.SignedInIdentity | None:
    """The account the signed-in user proved at Microsoft and has yet to confirm; `take` uses it up."""
    entry = request.session.pop(PENDING_LINK, None) if take else request.session.get(PENDING_LINK)
    if not isinstance(entry, dict) or entry.get("user_id") != request.user.pk:
        return None
    if time.time() - float(entry.get("created", 0)) > CONFIRM_WITHIN_SECONDS:
        request.session.pop(PENDING_LINK, None)
        return None
    return client.SignedInIdentity(oid=entry["oid"], tid=entry["tid"], username=entry["username"],
                                   name=entry.get("name", ""))
