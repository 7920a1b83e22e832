"""Pending OAuth flows: bound to the browser session, used once, dispatched by kind.

Every flow of the product (the settings check, mailbox connection, admin consent, sign-in) comes
back to the one Redirect URI; which flow it was is read from server-side state found by `state`,
never from the URI.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

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


def remember(request: HttpRequest, kind: str, msal_flow: dict[str, Any], **payload: Any) -> PendingFlow:
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


def take(request: HttpRequest, state: str) -> PendingFlow | None:
    """Remove and return the pending flow for `state`; None if unknown, expired or used."""
    flows = _live(request.session.get(SESSION_KEY, {}))
    entry = flows.pop(state, None) if state else None
    request.session[SESSION_KEY] = flows
    if entry is None:
        return None
    user_id = request.user.pk if request.user.is_authenticated else None
    if entry["user_id"] != user_id:
        return None
    return PendingFlow(entry["kind"], state, entry["flow"], entry["payload"], entry["user_id"], entry["created"])


def _live(flows: dict[str, Any]) -> dict[str, Any]:
    now = time.time()
    return {s: f for s, f in flows.items() if now - float(f.get("created", 0)) < FLOW_LIFETIME_SECONDS}
