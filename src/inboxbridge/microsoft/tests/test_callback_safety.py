"""The one Redirect URI refuses anything that is not the answer to a flow this session started."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse
from tests.fixtures import sign_in_without_browser

from inboxbridge.configuration.models import StoredSetting
from inboxbridge.microsoft.config import CLIENT_SECRET, load_config

pytestmark = pytest.mark.django_db
CALLBACK = reverse("microsoft:callback")


def start_enable(client: Client, identity, email: str) -> dict[str, str]:
    response = client.post(reverse("microsoft:enable"))
    assert response.status_code == 302
    auth_uri = response["Location"]
    assert auth_uri.startswith(identity.authority_host)
    assert "code_challenge=" in auth_uri and "nonce=" in auth_uri and "prompt=select_account" in auth_uri
    return sign_in_without_browser(auth_uri, email, "pw-1", str(identity.ca_file))


def test_enable_succeeds_with_a_real_code_exchange(client, admin_user, microsoft_app, identity, ms_user):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "Authorization was successful" in page
    assert load_config().email_sync_enabled
    assert identity.count("token", "authorization_code") >= 1


def test_a_replayed_answer_is_refused_and_changes_nothing(client, admin_user, microsoft_app, identity, ms_user):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    client.get(CALLBACK, answer)
    client.post(reverse("microsoft:disable"))
    replay = client.get(CALLBACK, answer)
    assert replay.status_code == 400
    assert "already been used" in replay.content.decode()
    assert not load_config().email_sync_enabled


def test_a_tampered_state_is_refused(client, admin_user, microsoft_app, identity, ms_user):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    response = client.get(CALLBACK, {**answer, "state": answer["state"] + "x"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert not load_config().email_sync_enabled


def test_an_answer_delivered_to_another_session_is_refused(client, admin_user, microsoft_app, identity, ms_user,
                                                            django_user_model):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    other = Client()
    other.force_login(django_user_model.objects.create_user("eve", "e@x.test", "pw", is_staff=True))
    assert other.get(CALLBACK, answer).status_code == 400
    anonymous = Client()
    assert anonymous.get(CALLBACK, answer).status_code == 400
    assert not load_config().email_sync_enabled


def test_a_missing_code_is_explained_and_enables_nothing(client, admin_user, microsoft_app, identity, ms_user):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    page = client.get(CALLBACK, {"state": answer["state"]}, follow=True).content.decode()
    assert "carried no authorization code" in page
    assert not load_config().email_sync_enabled


def test_a_wrong_client_secret_shows_aadsts7000215_and_enables_nothing(client, admin_user, microsoft_app, identity,
                                                                       ms_user):
    StoredSetting.objects.filter(key=CLIENT_SECRET.key).update(secret_value="wrong-secret")
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "AADSTS7000215: The client secret is wrong." in page
    assert "wrong-secret" not in page and microsoft_app.client_secret not in page
    assert not load_config().email_sync_enabled


def test_a_consent_refusal_at_microsoft_is_explained(client, admin_user, microsoft_app, identity, ms_user):
    client.force_login(admin_user)
    identity.inject("authorize", "consent_required")
    answer = start_enable(client, identity, ms_user)
    assert answer.get("error") == "consent_required"
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "AADSTS65001" in page and "consent" in page
    assert not load_config().email_sync_enabled


def test_an_unreachable_identity_platform_is_explained(client, admin_user, microsoft_app, settings):
    settings.MICROSOFT_AUTHORITY_HOST = "https://127.0.0.1:9"
    client.force_login(admin_user)
    page = client.post(reverse("microsoft:enable"), follow=True).content.decode()
    assert "Could not reach the Microsoft identity platform" in page


@pytest.mark.parametrize(("fault", "reason"), [
    ("id_token_bad_signature", "its signature does not match"),
    ("id_token_foreign_tid", "its issuer is not the directory it names"),
    ("id_token_wrong_nonce", "its nonce does not match"),
])
def test_a_hostile_id_token_is_explained_and_enables_nothing(client, admin_user, microsoft_app, identity, ms_user,
                                                             fault, reason):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    identity.inject("token", fault)
    response = client.get(CALLBACK, answer, follow=True)
    assert response.status_code == 200 and reason in response.content.decode()
    assert not load_config().email_sync_enabled


def test_a_garbled_aadsts_code_is_explained(client, admin_user, microsoft_app, identity, ms_user):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    query = {"state": answer["state"], "error": "access_denied", "error_codes": "x",
             "error_description": "AADSTS" + "7" * 5000}
    response = client.get(CALLBACK, query, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "email sync was not enabled. access_denied: " in page
    assert "7" * 600 not in page
    assert not load_config().email_sync_enabled


def test_a_refusal_no_flow_handled_shows_the_refusal_page(client, admin_user):
    from inboxbridge.microsoft import flows
    from inboxbridge.microsoft.errors import MicrosoftError

    @flows.register("test_unhandled")
    def unhandled(request, pending, answer):
        raise MicrosoftError("invalid_id_token", "The id_token in Microsoft's answer failed verification.")

    client.force_login(admin_user)
    session = client.session
    session[flows.SESSION_KEY] = {"s1": {"kind": "test_unhandled", "flow": {}, "payload": {}, "user_id": admin_user.pk,
                                         "created": time.time()}}
    session.save()
    response = client.get(CALLBACK, {"state": "s1", "code": "c"})
    assert response.status_code == 400
    assert "Microsoft&#x27;s answer was refused. invalid_id_token: The id_token" in response.content.decode()
