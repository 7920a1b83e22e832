"""My Configuration > API Tokens: create (shown once), list with last use, revoke. Administrators
also create tokens for another user (a service user) and see and revoke every token."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.api import actions, queries
from inboxbridge.api.forms import TokenForm


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: AuthenticatedRequest) -> HttpResponse:
    created = None
    form = TokenForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created = actions.create_token(user=data.get("user") or request.user, created_by=request.user,
                                       name=data["name"], scopes=data["scopes"], expires_at=form.expires_at)
        form = TokenForm(request.user)
    # The new token is in this one answer only (never_cache): no redirect, no session, no log.
    return render(request, "api/tokens.html", {
        "form": form, "created": created, "tokens": queries.tokens_shown_to(request.user), "now": timezone.now(),
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(queries.tokens_shown_to(request.user), pk=pk)
    if actions.revoke_token(token, by=request.user):
        messages.success(request, f"The token “{token.name}” is revoked: requests with it are refused from now on.")
    return redirect("api-tokens:list")
