from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedRequest(HttpRequest):
    """The request type of views behind login_required: `request.user` is a real user."""

    user: User
