"""In Chromium: the API reference page works under the site's Content-Security-Policy from this
service's own files (Authorize with a token, Try it out), and a user creates a token on API Tokens,
sees it once and revokes it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.browser import sign_in
from tests.factories import make_mailbox

from inboxbridge.api.models import ApiToken
from inboxbridge.api.tests.conftest import make_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda entry: problems.append(entry.text) if entry.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: problems.append(f"outside request: {request.url}")
            if not request.url.startswith(("http://localhost", "data:")) else None)
    return problems


def test_the_reference_page_tries_an_operation_with_a_token(browser_context, live_server, django_user_model):
    alice = django_user_model.objects.create_user("alice", "alice@example.test", "alice-password-1")
    mailbox = make_mailbox(alice)
    token = make_token(alice)
    page = browser_context.new_page()
    problems = watch(page)

    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("inboxbridge API")
    page.get_by_role("button", name=re.compile("Authorize")).first.click()
    page.locator(".auth-container input").first.fill(token)
    page.locator(".dialog-ux button.modal-btn.authorize").click()
    page.locator(".dialog-ux button.modal-btn.btn-done").click()

    page.locator("#operations-mailboxes-inboxbridge_api_endpoints_mailboxes_list_mailboxes").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_have_text("200")
    expect(page.locator(".live-responses-table")).to_contain_text(mailbox.email_address)
    assert problems == [], "\n".join(problems)


def test_a_token_is_shown_once_and_revoked(browser_context, live_server, django_user_model):
    django_user_model.objects.create_user("alice", "alice@example.test", "alice-password-1")
    page = browser_context.new_page()
    problems = watch(page)
    sign_in(page, live_server, "alice", "alice-password-1")

    page.click("summary:has-text('My Configuration')")
    page.click("a:has-text('API Tokens')")
    page.fill("#id_name", "CRM integration")
    page.check("input[value='mail:read']")
    page.select_option("#id_expires_in", "30")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("#token-value").inner_text()
    assert re.fullmatch(r"ibx_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", shown)
    token = ApiToken.objects.get(name="CRM integration")
    assert token.scopes == ["mail:read"] and shown not in token.secret_sha256

    page.goto(f"{live_server.url}/my/api-tokens/")
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator(f"#token-{token.pk}")).to_contain_text("never")
    page.locator(f"#token-{token.pk}").get_by_role("button", name="Revoke").click()
    expect(page.locator(f"#token-{token.pk}")).to_contain_text("revoked")
    answer = page.request.get(f"{live_server.url}/api/v1/mailboxes", headers={"Authorization": f"Bearer {shown}"})
    assert answer.status == 401 and "was revoked" in answer.json()["detail"]
    assert problems == [], "\n".join(problems)
