"""HTTPS as each request was served, whatever the configured base URL says."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


class SecureCookiesMiddleware:
    """Mark every cookie of a response to an https request Secure (session, CSRF, any other).

    Django's SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE are fixed at start; a service reached
    over https without an https base URL (or behind a proxy saying X-Forwarded-Proto: https)
    would otherwise hand out cookies a browser also sends over plain http. Listed outside the
    session and CSRF middleware, so their cookies are set when this sees the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response
