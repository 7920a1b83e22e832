"""Webhook endpoints: My Configuration > Webhooks (a user's, for mailboxes they can read) and
System > Configuration > Integrations > Webhooks (the administrators', for any mailbox). Each
endpoint's page has its delivery log with Resend, secret rotation and deletion. A new secret is
in the one answer that creates it (never_cache): no redirect, no session, no log."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.webhooks import actions, queries
from inboxbridge.webhooks.forms import EndpointForm
from inboxbridge.webhooks.models import Endpoint
from inboxbridge.webhooks.tasks import deliver_on_commit

View = Callable[..., HttpResponse]


def _scope(request: AuthenticatedRequest, system: bool) -> QuerySet[Endpoint]:
    return queries.system_endpoints() if system else queries.own_endpoints(request.user)


def _crumbs(system: bool) -> list[str]:
    return ["System", "Configuration", "Integrations", "Webhooks"] if system else ["My Configuration", "Webhooks"]


def _both(view: Callable[..., HttpResponse]) -> tuple[View, View]:
    """The user's view (login) and the administrators' (admin only) of one implementation."""

    @never_cache
    @login_required
    @wraps(view)
    def mine(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, system=False, **kwargs)

    @never_cache
    @admin_required
    @wraps(view)
    def system(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, system=True, **kwargs)

    return mine, system


@require_http_methods(["GET", "POST"])
def _endpoints(request: AuthenticatedRequest, *, system: bool) -> HttpResponse:
    created = None
    form = EndpointForm(request.user, request.POST or None, system=system)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = actions.create_endpoint(request.user, owner=None if system else request.user, url=data["url"],
                                          events=data["events"], mailbox=data["mailbox"],
                                          description=data["description"])
        form = EndpointForm(request.user, system=system)
    return render(request, "webhooks/endpoints.html", {
        "form": form, "created": created, "endpoints": _scope(request, system), "system": system,
        "breadcrumbs": _crumbs(system), "ns": _ns(system),
    }, status=400 if form.errors else 200)


def _endpoint(request: AuthenticatedRequest, pk: int, *, system: bool, secret: str = "") -> HttpResponse:
    endpoint = get_object_or_404(_scope(request, system), pk=pk)
    return render(request, "webhooks/endpoint.html", {
        "endpoint": endpoint, "deliveries": queries.delivery_log(endpoint), "secret": secret, "system": system,
        "breadcrumbs": [*_crumbs(system), endpoint.description or endpoint.url], "ns": _ns(system),
    })


@require_POST
def _rotate(request: AuthenticatedRequest, pk: int, *, system: bool) -> HttpResponse:
    endpoint = get_object_or_404(_scope(request, system), pk=pk)
    secret = actions.rotate_secret(request.user, endpoint)
    return _endpoint(request, pk, system=system, secret=secret)


@require_POST
def _delete(request: AuthenticatedRequest, pk: int, *, system: bool) -> HttpResponse:
    endpoint = get_object_or_404(_scope(request, system), pk=pk)
    actions.delete_endpoint(request.user, endpoint)
    messages.success(request, f"The endpoint {endpoint.url} is deleted: it receives no more events.")
    return redirect(f"{_ns(system)}:list")


@require_POST
def _resend(request: AuthenticatedRequest, pk: int, delivery_pk: int, *, system: bool) -> HttpResponse:
    endpoint = get_object_or_404(_scope(request, system), pk=pk)
    delivery = get_object_or_404(endpoint.deliveries.all(), pk=delivery_pk)
    if actions.resend(delivery):
        deliver_on_commit()
        messages.success(request, f"Event {delivery.event_id} will be sent again in a moment "
                                  "(after any earlier event of its mailbox still waiting for this endpoint).")
    return redirect(f"{_ns(system)}:endpoint", pk=endpoint.pk)


def _ns(system: bool) -> str:
    return "system-webhooks" if system else "webhooks"


endpoints, system_endpoints = _both(_endpoints)
endpoint, system_endpoint = _both(require_http_methods(["GET"])(_endpoint))
rotate, system_rotate = _both(_rotate)
delete, system_delete = _both(_delete)
resend, system_resend = _both(_resend)
