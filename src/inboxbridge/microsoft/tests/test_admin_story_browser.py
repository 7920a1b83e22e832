"""The whole admin story in a real browser: sign in, Microsoft Settings, Enable through the stand-in."""

from __future__ import annotations

import uuid

import pytest
from tests.browser import sign_in as sign_in_with_password

from inboxbridge.microsoft.config import load_config

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def azure_app(identity, live_server, settings):
    settings.MICROSOFT_AUTHORITY_HOST = identity.authority_host
    settings.CA_BUNDLE = str(identity.ca_file)
    client_id, secret = str(uuid.uuid4()), f"S3cr.{uuid.uuid4().hex}"
    identity.register_app(client_id, secret, [f"{live_server.url}/oauth2/microsoft/callback"])
    email = f"it-{uuid.uuid4().hex[:6]}@example.test"
    identity.add_user(email, "ms-password", name="IT Admin")
    return {"client_id": client_id, "secret": secret, "tenant": identity.tenant_id, "email": email}


def sign_in(page, live_server) -> None:
    sign_in_with_password(page, live_server, "admin", "admin-password-1")


def open_microsoft_settings(page) -> None:
    page.click("summary:has-text('System')")
    page.click("a:has-text('Microsoft Settings')")
    page.wait_for_selector("h1:has-text('Microsoft Settings')")


def fill_settings(page, client_id: str, secret: str, tenant: str) -> None:
    page.fill("#id_client_id", client_id)
    page.fill("#id_client_secret", secret)
    page.fill("#id_tenant_id", tenant)
    page.click("button:has-text('Save Settings')")
    page.wait_for_selector(".message.success")


def enable_through_microsoft(page, email: str) -> None:
    page.click("#enable-button")
    page.wait_for_selector("input[name=password]")
    assert "Sign in" in page.title()
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "ms-password")
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Microsoft Settings')")


def test_admin_configures_and_enables_office365_sync(browser_context, live_server, admin_user, azure_app, settings):
    settings.MICROSOFT_TENANT_ID = "example.test"  # the deployment default that "Use Default" falls back to
    page = browser_context.new_page()
    sign_in(page, live_server)
    open_microsoft_settings(page)

    assert page.is_disabled("#enable-button")
    # The default is ticked and its field locked; untick to type our own value.
    assert page.is_checked("input[name=tenant_id_use_default]")
    page.uncheck("input[name=tenant_id_use_default]")
    fill_settings(page, azure_app["client_id"], azure_app["secret"], azure_app["tenant"])
    assert page.input_value("#redirect-uri") == f"{live_server.url}/oauth2/microsoft/callback"
    assert page.input_value("#id_tenant_id") == azure_app["tenant"]
    assert azure_app["secret"] not in page.content()
    assert "a secret is set" in page.get_attribute("#id_client_secret", "placeholder")

    # Use Default resets the tenant to the deployment's value.
    page.check("input[name=tenant_id_use_default]")
    page.click("button:has-text('Save Settings')")
    page.wait_for_selector(".message.success")
    assert page.input_value("#id_tenant_id") == "example.test"

    enable_through_microsoft(page, azure_app["email"])
    success = page.locator(".message.success")
    assert "Authorization was successful" in success.inner_text()
    color = success.evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(16, 124, 16)"  # green
    assert page.locator("#email-sync .badge.ok").inner_text() == "Enabled"
    assert azure_app["secret"] not in page.content()
    assert load_config().email_sync_enabled


def test_a_wrong_secret_comes_back_with_the_aadsts_code_explained(browser_context, live_server, admin_user, azure_app):
    page = browser_context.new_page()
    sign_in(page, live_server)
    open_microsoft_settings(page)
    fill_settings(page, azure_app["client_id"], "Wrong.Secret~Value", azure_app["tenant"])
    enable_through_microsoft(page, azure_app["email"])
    error = page.locator(".message.error").inner_text()
    assert "AADSTS7000215" in error
    assert "Paste the secret's Value" in error
    assert "Wrong.Secret~Value" not in page.content()
    assert page.locator("#email-sync .badge").inner_text() == "Disabled"
    assert not load_config().email_sync_enabled


def test_the_copy_button_copies_the_redirect_uri(browser_context, live_server, admin_user, azure_app):
    browser_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = browser_context.new_page()
    sign_in(page, live_server)
    open_microsoft_settings(page)
    page.click("button[data-copy]")
    page.wait_for_selector("button[data-copy]:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/oauth2/microsoft/callback"
