"""Sign in with Microsoft as a browser would, through the identity stand-in and the one Redirect URI."""

from __future__ import annotations

import uuid
from typing import Any

from django.test import Client
from django.urls import reverse
from tests.fixtures import sign_in_without_browser

CALLBACK = reverse("microsoft:callback")


def microsoft_account(identity: Any, email: str | None = None, **extra: Any) -> str:
    email = email or f"ann-{uuid.uuid4().hex[:8]}@example.test"
    identity.add_user(email, "pw-1", name="Ann", **extra)
    return email


def answer_of(client: Client, identity: Any, email: str, *, next_url: str = "", start: str = "") -> dict[str, str]:
    """Start at our page, sign in at the stand-in: the query Microsoft sends to the Redirect URI."""
    response = client.post(start or reverse("signin:start"), {"next": next_url})
    assert response.status_code == 302 and response["Location"].startswith(identity.authority_host)
    return sign_in_without_browser(response["Location"], email, "pw-1", str(identity.ca_file))


def sign_in_with_microsoft(client: Client, identity: Any, email: str, *, next_url: str = "", start: str = "") -> Any:
    return client.get(CALLBACK, answer_of(client, identity, email, next_url=next_url, start=start))


def link_and_confirm(client: Client, identity: Any, email: str) -> Any:
    """What a signed-in user does in My Configuration > Sign-in: Link, sign in at Microsoft, confirm."""
    response = sign_in_with_microsoft(client, identity, email, start=reverse("signin:link"))
    assert response.status_code == 302 and response["Location"] == reverse("signin:confirm"), response
    return client.post(reverse("signin:confirm"), {"confirm": "1"}, follow=True)


def signed_in_as(client: Client) -> str:
    response = client.get(reverse("signin:mine"))
    return response.context["user"].get_username() if response.status_code == 200 else ""
