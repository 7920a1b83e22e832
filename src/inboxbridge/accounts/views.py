"""Sign-in pages beyond Django's own LoginView."""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inboxbridge.accounts import audit


def locked_out(request: HttpRequest, response: HttpResponse | None = None, credentials: dict | None = None
               ) -> HttpResponse:
    """The sign-in page again, saying the sign-in is locked and for how long (django-axes calls
    this instead of its bare 429 text). A correct password changes nothing until the lock ends."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    form = AuthenticationForm(request, initial={"username": audit.attempted_username(request, credentials)})
    context = {"form": form, "locked": True, "locked_minutes": minutes, "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)
