"""Self-test: Chromium signs in at the stand-in's form and lands on the redirect URI."""

from __future__ import annotations

import imaplib
import uuid
from urllib.parse import parse_qsl

import pytest
from playwright.sync_api import BrowserContext, Route

from tests.stack.helpers import MAIL_SCOPES, imap_xoauth2, msal_app, redirect_params
from tests.stack.identity import IdentityStandIn
from tests.stack.mail import MailStack

pytestmark = [pytest.mark.browser, pytest.mark.mailserver]
# Nothing listens here: the browser's request to it is intercepted below.
REDIRECT_URI = "https://app.example.test/microsoft/callback"


@pytest.mark.parametrize("response_mode", ["query", "form_post"])
def test_browser_sign_in_then_imap(
    browser_context: BrowserContext,
    identity: IdentityStandIn,
    mail_stack: MailStack,
    response_mode: str,
) -> None:
    address = f"web-{uuid.uuid4().hex[:8]}@example.test"
    password = mail_stack.add_user(address)
    identity.add_user(address, password)
    client_id, secret = str(uuid.uuid4()), "browser-secret"
    identity.register_app(client_id, secret, [REDIRECT_URI])
    app = msal_app(identity, client_id, secret)
    flow = app.initiate_auth_code_flow(
        MAIL_SCOPES, redirect_uri=REDIRECT_URI, login_hint=address, response_mode=response_mode
    )

    received: dict[str, str] = {}

    def callback(route: Route) -> None:
        request = route.request
        if request.method == "POST":
            received.update(parse_qsl(request.post_data or ""))
        else:
            received.update(redirect_params(request.url))
        route.fulfill(status=200, content_type="text/html", body="<title>Connected</title>ok")

    page = browser_context.new_page()
    page.route(REDIRECT_URI + "*", callback)
    page.goto(flow["auth_uri"])
    assert "Sign in" in page.title()
    assert page.input_value('input[name="username"]') == address
    page.fill('input[name="password"]', "not the password")
    page.click('button[type="submit"]')
    page.wait_for_selector("text=Your account or password is incorrect")
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"]')
    page.wait_for_url(REDIRECT_URI + "*")
    assert page.title() == "Connected"

    result = app.acquire_token_by_auth_code_flow(flow, received)
    assert "access_token" in result, result
    oauth_client = imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=mail_stack.ssl_context())
    try:
        assert imap_xoauth2(oauth_client, address, str(result["access_token"]))[0] == "OK"
    finally:
        oauth_client.logout()
