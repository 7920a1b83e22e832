"""In Chromium: the login page's "Sign in with Microsoft", the stand-in's sign-in page, and back in
My Emails."""

from __future__ import annotations

import uuid

import pytest

from inboxbridge.signin import actions
from inboxbridge.signin.models import MicrosoftLogin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_with_microsoft_from_the_login_page(browser_context, live_server, enabled_microsoft, identity,
                                                    admin_user, django_user_model):
    email = f"dora-{uuid.uuid4().hex[:6]}@example.test"
    identity.add_user(email, "dora-ms-password", name="Dora")
    dora = django_user_model.objects.create_user("dora", email, "dora-password-1")
    actions.save_sign_in_settings(admin_user, enabled=True, domains=["example.test"])

    page = browser_context.new_page()
    page.goto(f"{live_server.url}/mail/")  # asks to sign in first, and comes back here after
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/mail/")
    page.click("#sign-in-with-microsoft")
    page.wait_for_selector("input[name=password]")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "dora-ms-password")
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{live_server.url}/mail/")
    assert page.locator("h1").inner_text() == "My Emails"
    assert MicrosoftLogin.objects.get().user == dora

    page.goto(f"{live_server.url}/my/sign-in/")
    assert email in page.inner_text("#microsoft-logins")
