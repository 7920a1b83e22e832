from __future__ import annotations

from typing import Any

from django import template

from inboxbridge.signin.queries import sign_in_available

register = template.Library()


@register.inclusion_tag("signin/button.html", takes_context=True)
def sign_in_with_microsoft(context: dict[str, Any], next_url: str = "") -> dict[str, Any]:
    """The login page's button, shown only while Sign in with Microsoft is available."""
    return {"available": sign_in_available(), "next": next_url, "csrf_token": context.get("csrf_token")}
