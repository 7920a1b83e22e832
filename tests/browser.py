"""What browser tests do the same way: sign in with a password on the login page."""

from __future__ import annotations

from typing import Any


def sign_in(page: Any, live_server: Any, username: str, password: str) -> None:
    """Sign in on the login page, as a person would, and wait for My Emails."""
    page.goto(f"{live_server.url}/accounts/login/?next=/mail/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/mail/")
