"""The end of a connect link, through the identity stand-in: the person signs in at Microsoft and
their mailbox becomes one of the token's user's (or Reconnects the link's), then their browser goes
to the application's redirect_url with the outcome; Microsoft's refusals, the wrong account and a
token withdrawn meanwhile come back as errors with what to do."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from tests.fixtures import sign_in_without_browser

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.api.models import ApiToken
from inboxbridge.api.tests.conftest import bearer, make_token
from inboxbridge.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db

CALLBACK = reverse("microsoft:callback")
APP = "https://crm.example.com/connected"


@pytest.fixture
def crm(django_user_model, enabled_microsoft):
    user = django_user_model.objects.create_user("crm", "crm@example.test", "crm-password-1")
    return {"user": user, "token": make_token(user, ["mail:read", "mailboxes:manage"])}


@pytest.fixture
def dana(identity):
    """A person with an Office 365 account; not a user of inboxbridge."""
    email = f"dana-{uuid.uuid4().hex[:6]}@contoso.example"
    identity.add_user(email, "dana-password-1", name="Dana")
    return {"email": email, "password": "dana-password-1"}


def link_path(client, token: str, **body) -> str:
    answer = client.post("/api/v1/mailboxes/connect-links", data=json.dumps(body), content_type="application/json",
                         **bearer(token))
    assert answer.status_code == 201, answer.content
    return urlsplit(answer.json()["url"]).path


def open_and_sign_in(client, path: str, person, identity):
    """The person opens the link, clicks Continue and signs in; the answer of the Redirect URI."""
    started = client.post(path, {"answer": "continue"})
    assert started.status_code == 302, started.content.decode()[:300]
    answer = sign_in_without_browser(started["Location"], person["email"], person["password"], str(identity.ca_file))
    return client.get(CALLBACK, answer)


def outcome(answer) -> dict[str, str]:
    assert answer.status_code == 302 and answer["Location"].startswith(APP + "?"), answer
    return {key: values[0] for key, values in parse_qs(urlsplit(answer["Location"]).query).items()}


def test_the_person_signs_in_and_the_mailbox_is_the_tokens_users(client, crm, dana, identity,
                                                                 django_capture_on_commit_callbacks):
    path = link_path(client, crm["token"], redirect_url=APP, login_hint=dana["email"])
    started = client.post(path, {"answer": "continue"})
    assert parse_qs(urlsplit(started["Location"]).query)["login_hint"] == [dana["email"]]
    answer = sign_in_without_browser(started["Location"], dana["email"], dana["password"], str(identity.ca_file))
    with django_capture_on_commit_callbacks(execute=True):
        result = outcome(client.get(CALLBACK, answer))

    mailbox = Mailbox.objects.get(pk=int(result["mailbox"]))
    assert result["status"] == "connected"
    assert (mailbox.owner, mailbox.account_type, mailbox.email_address, mailbox.signed_in_as) == (
        crm["user"], Mailbox.AccountType.OFFICE365, dana["email"], dana["email"])
    listed = client.get("/api/v1/mailboxes", **bearer(crm["token"])).json()
    assert [(m["id"], m["email_address"], m["account_type"]) for m in listed] == [
        (mailbox.pk, dana["email"], "office365")]
    # Its first sync (which lists its folders) is queued at once, as Sync now would.
    assert DBTaskResult.objects.filter(task_path="inboxbridge.jobs.tasks.sync_mailbox",
                                       args_kwargs__args=[mailbox.pk]).count() == 1
    connected = AuditEvent.objects.get(action="api_connect_link.connected")
    assert connected.actor == crm["user"] and connected.target == dana["email"]
    assert connected.detail["token"] == "crm app" and connected.detail["mailbox"] == mailbox.pk


def test_a_reconnect_link_renews_the_same_mailbox(client, crm, dana, identity):
    first = outcome(open_and_sign_in(client, link_path(client, crm["token"], redirect_url=APP), dana, identity))
    mailbox = Mailbox.objects.get(pk=int(first["mailbox"]))
    Mailbox.objects.filter(pk=mailbox.pk).update(needs_reconnect=True, reconnect_reason="The grant was revoked.")

    again = outcome(open_and_sign_in(client, link_path(client, crm["token"], redirect_url=APP, mailbox=mailbox.pk),
                                     dana, identity))
    assert again == {"status": "connected", "mailbox": str(mailbox.pk)}
    mailbox.refresh_from_db()
    assert not mailbox.needs_reconnect and Mailbox.objects.filter(owner=crm["user"]).count() == 1


def test_reconnecting_with_another_account_is_refused(client, crm, dana, identity):
    erin = {"email": f"erin-{uuid.uuid4().hex[:6]}@contoso.example", "password": "erin-password-1"}
    identity.add_user(erin["email"], erin["password"], name="Erin")
    mailbox = Mailbox.objects.get(pk=int(outcome(open_and_sign_in(
        client, link_path(client, crm["token"], redirect_url=APP), dana, identity))["mailbox"]))

    path = link_path(client, crm["token"], redirect_url=APP, mailbox=mailbox.pk)
    result = outcome(open_and_sign_in(client, path, erin, identity))
    assert result["status"] == "error" and result["error"] == "wrong_account"
    assert f"Microsoft signed in {erin['email']}, not {dana['email']}" in result["error_description"]
    assert Mailbox.objects.filter(owner=crm["user"]).count() == 1
    assert AuditEvent.objects.get(action="api_connect_link.refused").detail["error"] == "wrong_account"


def test_microsofts_refusal_comes_back_with_its_aadsts_code_and_what_to_do(client, crm, identity):
    path = link_path(client, crm["token"], redirect_url=APP)
    started = client.post(path, {"answer": "continue"})
    identity.inject("authorize", "consent_required")
    answer = sign_in_without_browser(started["Location"], "anyone@contoso.example", "x", str(identity.ca_file))
    result = outcome(client.get(CALLBACK, answer))
    assert result["status"] == "error" and result["error"] == "consent_required"
    assert result["error_description"].startswith("AADSTS65001: The user or administrator has not consented")
    assert "admin consent link" in result["error_description"]
    assert "Trace ID" not in result["error_description"]
    assert not Mailbox.objects.exists()


def test_without_a_redirect_url_the_outcome_is_a_page(client, crm, dana, identity):
    page = open_and_sign_in(client, link_path(client, crm["token"]), dana, identity)
    assert page.status_code == 200
    assert f'id="connected-mailbox">{dana["email"]}<' in page.content.decode()

    identity.inject("authorize", "consent_required")
    started = client.post(link_path(client, crm["token"]), {"answer": "continue"})
    refused = client.get(CALLBACK, sign_in_without_browser(started["Location"], dana["email"], dana["password"],
                                                           str(identity.ca_file)))
    assert refused.status_code == 400
    assert "AADSTS65001: The user or administrator has not consented" in refused.content.decode()


def test_a_token_revoked_during_the_sign_in_connects_nothing(client, crm, dana, identity):
    path = link_path(client, crm["token"], redirect_url=APP)
    started = client.post(path, {"answer": "continue"})
    answer = sign_in_without_browser(started["Location"], dana["email"], dana["password"], str(identity.ca_file))
    ApiToken.objects.update(revoked_at=timezone.now())
    result = outcome(client.get(CALLBACK, answer))
    assert result["status"] == "error" and result["error"] == "link_withdrawn"
    assert not Mailbox.objects.exists()


def test_the_answer_only_counts_in_the_browser_that_opened_the_link(client, crm, dana, identity):
    from django.test import Client

    started = client.post(link_path(client, crm["token"], redirect_url=APP), {"answer": "continue"})
    answer = sign_in_without_browser(started["Location"], dana["email"], dana["password"], str(identity.ca_file))
    elsewhere = Client().get(CALLBACK, answer)
    assert elsewhere.status_code == 400 and not Mailbox.objects.exists()
