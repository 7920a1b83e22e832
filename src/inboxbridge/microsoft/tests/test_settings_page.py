from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.configuration import store
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import CLIENT_ID as CLIENT_ID_OPTION
from inboxbridge.microsoft.config import load_config

PAGE = reverse("microsoft:settings")
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "Zx9~pretend.secret-value_that_must_never_show"

pytestmark = pytest.mark.django_db


def save(client, **fields):
    data = {"client_id": CLIENT_ID, "tenant_id": TENANT_ID, "client_secret": SECRET, **fields}
    return client.post(PAGE, data, follow=True)


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_non_admin_gets_403_on_every_settings_url(client, plain_user) -> None:
    client.force_login(plain_user)
    for name in ("microsoft:settings", "configuration:system-information"):
        assert client.get(reverse(name)).status_code == 403
    for name in ("microsoft:enable", "microsoft:disable", "microsoft:admin-consent"):
        assert client.post(reverse(name)).status_code == 403
    assert client.post(PAGE, {"client_id": CLIENT_ID}).status_code == 403
    assert store.get(CLIENT_ID_OPTION) == ""


def test_saving_stores_values_the_secret_never_comes_back_and_the_audit_log_has_no_secret(client, admin_user) -> None:
    client.force_login(admin_user)
    response = save(client)
    body = response.content.decode()
    assert "Settings saved" in body
    assert SECRET not in body
    assert "a secret is set" in body
    config = load_config()
    assert (config.client_id, config.tenant_id, config.client_secret) == (CLIENT_ID, TENANT_ID, SECRET)
    events = list(AuditEvent.objects.values_list("actor__username", "target", "detail"))
    assert ("admin", "Client Secret", {"change": "set"}) in events
    assert ("admin", "Application (client) ID", {"old": None, "new": CLIENT_ID}) in events
    assert SECRET not in str(events)


def test_an_empty_secret_field_keeps_the_stored_secret(client, admin_user) -> None:
    client.force_login(admin_user)
    save(client)
    save(client, client_secret="")
    assert load_config().client_secret == SECRET


def test_validation_errors_are_shown_and_nothing_is_saved(client, admin_user) -> None:
    client.force_login(admin_user)
    response = save(client, client_id="nope", tenant_id="not a tenant")
    assert response.status_code == 200
    body = response.content.decode()
    assert "The Application (client) ID is a GUID" in body
    assert "The Directory (tenant) ID is a GUID" in body
    assert SECRET not in body
    assert load_config().client_id == ""


def test_common_tenant_saves_with_a_warning_about_aadsts50194(client, admin_user) -> None:
    client.force_login(admin_user)
    assert "AADSTS50194" in save(client, tenant_id="common").content.decode()


def test_use_default_resets_a_field_to_the_deployment_default(client, admin_user, settings) -> None:
    settings.MICROSOFT_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
    client.force_login(admin_user)
    save(client)
    assert load_config().client_id == CLIENT_ID
    save(client, client_id_use_default="on", client_secret="")
    assert load_config().client_id == "11111111-2222-3333-4444-555555555555"
    assert load_config().client_secret == SECRET
    assert AuditEvent.objects.filter(action="microsoft_settings.use_default", target="Application (client) ID").exists()


def test_enable_is_disabled_until_the_three_values_are_saved(client, admin_user) -> None:
    client.force_login(admin_user)
    page = client.get(PAGE).content.decode()
    assert 'id="enable-button" disabled' in page
    save(client)
    assert 'id="enable-button" disabled' not in client.get(PAGE).content.decode()


def test_the_redirect_uri_follows_the_base_url_and_flags_plain_http(client, admin_user, settings) -> None:
    client.force_login(admin_user)
    settings.BASE_URL = "https://mail.example.com"
    page = client.get(PAGE).content.decode()
    assert 'value="https://mail.example.com/oauth2/microsoft/callback"' in page
    assert "redirect-uri-problem" not in page
    settings.BASE_URL = "http://mail.example.com"
    assert "accepts http:// Redirect URIs only for localhost" in client.get(PAGE).content.decode()
    settings.BASE_URL = ""
    page = client.get(PAGE, HTTP_HOST="localhost:8000").content.decode()
    assert 'value="http://localhost:8000/oauth2/microsoft/callback"' in page
    assert "redirect-uri-problem" not in page


def test_the_page_lists_exactly_the_needed_delegated_permissions(client, admin_user) -> None:
    client.force_login(admin_user)
    save(client)
    page = client.get(PAGE).content.decode()
    for scope in ("IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send", "offline_access", "openid",
                  "profile", "email"):
        assert f"<code>{scope}</code>" in page
    assert "User.Read" not in page and "Mail.Read" not in page
    assert "admin-consent-link" in page


def test_admin_consent_starts_only_from_the_pages_form(client, admin_user) -> None:
    client.force_login(admin_user)
    save(client)
    consent = reverse("microsoft:admin-consent")
    assert client.get(consent).status_code == 405  # a link elsewhere cannot replace the pending flow
    assert flows.SESSION_KEY not in client.session
    answer = client.post(consent)
    assert answer.status_code == 302
    target = urlsplit(answer["Location"])
    assert target.path.endswith("/v2.0/adminconsent")
    assert parse_qs(target.query)["state"][0] in client.session[flows.SESSION_KEY]


def test_csrf_is_enforced(admin_user) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(PAGE, {"client_id": CLIENT_ID}).status_code == 403


def test_disable_switches_sync_off_and_warns(client, admin_user) -> None:
    from inboxbridge.microsoft import actions

    client.force_login(admin_user)
    actions.enable_email_sync(admin_user, "x")
    body = client.post(reverse("microsoft:disable"), follow=True).content.decode()
    assert "will not synchronize" in body
    assert not load_config().email_sync_enabled
