"""OAuth flows with Microsoft: started here, bound to the browser session, used once, finished by kind.

Every flow of the product (the settings check, admin consent, mailbox connection, sign-in, linking)
starts with `start` (or `start_admin_consent`) and comes back to the one Redirect URI
(`views.callback`), which takes the pending flow found by `state` and hands it to the handler its
app registered for the flow's kind; which flow it was is read from server-side state, never from the
URI. A handler turns Microsoft's answer into who signed in with `redeem`.

The handlers stay in the apps whose feature they finish (mailboxes, signin, and this app's own
settings page), registered from their `ready()`: this module imports none of them.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from inboxbridge.microsoft import client
from inboxbridge.microsoft.config import MicrosoftConfig, load_config, mail_scopes
from inboxbridge.microsoft.errors import MicrosoftError, from_result

SESSION_KEY = "inboxbridge.microsoft.flows"
FLOW_LIFETIME_SECONDS = 15 * 60
MAX_PENDING = 5


@dataclass(frozen=True)
class PendingFlow:
    kind: str
    state: str
    msal_flow: dict[str, Any]
    payload: dict[str, Any]
    user_id: int | None
    created: float


Handler = Callable[[HttpRequest, PendingFlow, dict[str, str]], HttpResponse]
_handlers: dict[str, Handler] = {}


def register(kind: str) -> Callable[[Handler], Handler]:
    """Declare the view that finishes flows of `kind`; apps call this from their `ready()`."""

    def decorator(handler: Handler) -> Handler:
        _handlers[kind] = handler
        return handler

    return decorator


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def redirect_uri(request: HttpRequest | None = None) -> str:
    path = reverse("microsoft:callback")
    if settings.BASE_URL:
        return settings.BASE_URL + path
    if request is None:
        return path
    return request.build_absolute_uri(path)


# -- starting ----------------------------------------------------------------------------------


def start(
    request: HttpRequest,
    kind: str,
    scopes: list[str],
    *,
    failure_page: str = "",
    failure: str = "",
    on_failure: Callable[[MicrosoftError], HttpResponse] | None = None,
    login_hint: str = "",
    config: MicrosoftConfig | None = None,
    **payload: Any,
) -> HttpResponse:
    """Send the browser to Microsoft to sign in, for a flow of `kind` (PKCE, state and nonce).

    The flow and `payload` are kept in this session for the handler of `kind`. When Microsoft cannot
    be asked (settings incomplete or wrong, platform unreachable), the browser goes back to
    `failure_page` with `failure` followed by the reason, or gets what `on_failure` answers to it.
    """
    config = config or load_config()
    try:
        flow = client.start_flow(config, scopes, redirect_uri(request), login_hint=login_hint or None)
    except MicrosoftError as error:
        if on_failure is not None:
            return on_failure(error)
        messages.error(request, f"{failure} {error.message}")
        return redirect(failure_page)
    _remember(request, kind, flow, **payload)
    return redirect(flow["auth_uri"])


def start_admin_consent(request: HttpRequest, kind: str, config: MicrosoftConfig, *,
                        scopes: list[str] | None = None, **payload: Any) -> HttpResponse:
    """Send a tenant administrator to Microsoft's admin consent page for `scopes` (default: the
    delegated mail permissions); the answer carries no code, only `state`, so the flow kept here
    holds nothing else but `payload` for the handler of `kind`."""
    state = secrets.token_urlsafe(24)
    _remember(request, kind, {"state": state}, **payload)
    return redirect(client.admin_consent_url(config, scopes or mail_scopes(), redirect_uri(request), state))


def _remember(request: HttpRequest, kind: str, msal_flow: dict[str, Any], **payload: Any) -> PendingFlow:
    pending = PendingFlow(
        kind=kind,
        state=str(msal_flow["state"]),
        msal_flow=msal_flow,
        payload=payload,
        user_id=request.user.pk if request.user.is_authenticated else None,
        created=time.time(),
    )
    flows = _live(request.session.get(SESSION_KEY, {}))
    flows[pending.state] = {
        "kind": kind, "flow": msal_flow, "payload": payload, "user_id": pending.user_id, "created": pending.created,
    }
    # A user who starts many flows keeps only the newest few.
    for state in sorted(flows, key=lambda s: flows[s]["created"])[:-MAX_PENDING]:
        del flows[state]
    request.session[SESSION_KEY] = flows
    return pending


# -- coming back -------------------------------------------------------------------------------


def take(request: HttpRequest, state: str) -> PendingFlow | None:
    """Remove and return the pending flow for `state`; None if unknown, expired, used or another user's."""
    flows = _live(request.session.get(SESSION_KEY, {}))
    entry = flows.pop(state, None) if state else None
    request.session[SESSION_KEY] = flows
    if entry is None:
        return None
    user_id = request.user.pk if request.user.is_authenticated else None
    if entry["user_id"] != user_id:
        return None
    return PendingFlow(entry["kind"], state, entry["flow"], entry["payload"], entry["user_id"], entry["created"])


def refusal(answer: Mapping[str, str]) -> MicrosoftError | None:
    """Microsoft's refusal carried by the answer (the user declined, consent missing, ...), if any."""
    return from_result(answer) if "error" in answer else None


def redeem(
    pending: PendingFlow,
    answer: Mapping[str, str],
    *,
    again: str,
    config: MicrosoftConfig | None = None,
    cache: client.TokenCache | None = None,
    fingerprint: str | None = None,
) -> client.SignedInIdentity:
    """Check Microsoft's answer to `pending` and redeem its code: who signed in, from the verified
    id_token. Tokens go only into `cache` (if given).

    `fingerprint`, when given, is that of the credentials the flow was started with: redeeming with
    other ones is refused. Every refusal is a MicrosoftError whose message ends with `again` where
    starting over is what helps.
    """
    if (refused := refusal(answer)) is not None:
        raise refused
    if not answer.get("code"):
        raise MicrosoftError("no_code", f"Microsoft's answer carried no authorization code. {again}")
    config = config or load_config()
    if fingerprint is not None and fingerprint != config.fingerprint:
        raise MicrosoftError("changed", f"The settings changed during the authorization. {again}")
    return client.finish_flow(config, pending.msal_flow, dict(answer), cache)


def _live(flows: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    return {s: f for s, f in flows.items() if now - float(f.get("created", 0)) < FLOW_LIFETIME_SECONDS}
