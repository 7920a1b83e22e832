"""The one way to start a flow (`flows.start`) and to check Microsoft's answer (`flows.redeem`),
and the one Redirect URI handing each answer only to the flow this session and user started."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError

pytestmark = pytest.mark.django_db
CALLBACK = reverse("microsoft:callback")
finished: list[tuple[str, dict[str, Any]]] = []


@flows.register("test_flow")
def finish_test_flow(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    finished.append((pending.state, pending.payload))
    return HttpResponse("finished")


@pytest.fixture(autouse=True)
def nothing_finished() -> None:
    finished.clear()


def browser_request(user: Any = None) -> HttpRequest:
    request = RequestFactory().post("/start")
    request.user = user or AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def pending_in(client: Client, state: str, *, user_id: int | None, age: float = 0) -> None:
    session = client.session
    session[flows.SESSION_KEY] = {state: {"kind": "test_flow", "flow": {"state": state}, "payload": {},
                                          "user_id": user_id, "created": time.time() - age}}
    session.save()


def test_start_keeps_the_flow_for_its_kind_and_user_and_sends_the_browser_to_microsoft(microsoft_app, identity,
                                                                                       admin_user):
    request = browser_request(admin_user)
    response = flows.start(request, "test_flow", [], failure_page="home", failure="Could not start.", next="/mail/")
    assert response.status_code == 302 and response["Location"].startswith(identity.authority_host)
    state = parse_qs(urlsplit(response["Location"]).query)["state"][0]
    kept = request.session[flows.SESSION_KEY][state]
    assert (kept["kind"], kept["payload"], kept["user_id"]) == ("test_flow", {"next": "/mail/"}, admin_user.pk)
    assert "code_verifier" in kept["flow"]  # PKCE: the verifier stays on the server


def test_start_that_cannot_reach_microsoft_goes_back_with_the_reason_and_keeps_nothing(microsoft_app, settings):
    settings.MICROSOFT_AUTHORITY_HOST = "https://127.0.0.1:9"
    request = browser_request()
    response = flows.start(request, "test_flow", [], failure_page="signin:mine", failure="Could not start.")
    assert response.status_code == 302 and response["Location"] == reverse("signin:mine")
    [message] = [str(m) for m in get_messages(request)]
    assert message.startswith("Could not start. unreachable: Could not reach the Microsoft identity platform")
    assert not request.session.get(flows.SESSION_KEY)


def test_start_without_saved_settings_says_so():
    request = browser_request()
    flows.start(request, "test_flow", [], failure_page="home", failure="Could not start.")
    assert [str(m) for m in get_messages(request)] == [
        "Could not start. not_configured: The Microsoft integration is not configured."]


def test_a_session_keeps_only_its_newest_flows(microsoft_app):
    request = browser_request()
    starts = [flows.start_admin_consent(request, "test_flow", load_config()) for _ in range(flows.MAX_PENDING + 2)]
    states = [parse_qs(urlsplit(r["Location"]).query)["state"][0] for r in starts]
    assert list(request.session[flows.SESSION_KEY]) == states[-flows.MAX_PENDING:]


def test_the_callback_hands_the_answer_to_the_flow_once(client, admin_user):
    client.force_login(admin_user)
    pending_in(client, "s1", user_id=admin_user.pk)
    assert client.get(CALLBACK, {"state": "s1", "code": "c"}).content == b"finished"
    assert client.get(CALLBACK, {"state": "s1", "code": "c"}).status_code == 400
    assert len(finished) == 1


@pytest.mark.parametrize("state", ["", "unknown"])
def test_an_unknown_state_is_refused(client, admin_user, state):
    client.force_login(admin_user)
    pending_in(client, "s1", user_id=admin_user.pk)
    response = client.get(CALLBACK, {"state": state, "code": "c"})
    assert response.status_code == 400 and "Nothing was changed" in response.content.decode()
    assert not finished


def test_an_expired_flow_is_refused(client, admin_user):
    client.force_login(admin_user)
    pending_in(client, "s1", user_id=admin_user.pk, age=flows.FLOW_LIFETIME_SECONDS + 1)
    response = client.get(CALLBACK, {"state": "s1", "code": "c"})
    assert response.status_code == 400 and "has expired" in response.content.decode()
    assert not finished


def test_another_users_flow_is_refused_in_the_same_browser(client, admin_user, plain_user):
    client.force_login(plain_user)
    pending_in(client, "s1", user_id=admin_user.pk)
    assert client.get(CALLBACK, {"state": "s1", "code": "c"}).status_code == 400
    assert not finished


def test_a_flow_started_before_signing_in_is_not_finished_as_the_signed_in_user(client, plain_user):
    pending_in(client, "s1", user_id=None)
    client.force_login(plain_user)  # the session keeps its data across a sign-in
    assert flows.SESSION_KEY in client.session
    assert client.get(CALLBACK, {"state": "s1", "code": "c"}).status_code == 400
    assert not finished


def pending(**payload: Any) -> flows.PendingFlow:
    return flows.PendingFlow("test_flow", "s1", {"state": "s1"}, payload, None, time.time())


def test_redeem_explains_a_refusal_at_microsoft():
    with pytest.raises(MicrosoftError) as raised:
        flows.redeem(pending(), {"error": "access_denied", "error_description": "AADSTS65001: no consent"},
                     again="Try again.")
    assert raised.value.code == 65001 and raised.value.message.startswith("AADSTS65001: The user or administrator")
    assert flows.refusal({"state": "s1", "code": "c"}) is None


def test_redeem_refuses_an_answer_without_a_code_and_says_what_to_do():
    with pytest.raises(MicrosoftError, match=r"carried no authorization code\. Click Connect again\.") as raised:
        flows.redeem(pending(), {"state": "s1"}, again="Click Connect again.")
    assert raised.value.error == "no_code"


def test_redeem_refuses_when_the_credentials_changed_since_the_start(microsoft_app):
    with pytest.raises(MicrosoftError, match=r"settings changed during the authorization\. Click Enable again\."):
        flows.redeem(pending(), {"state": "s1", "code": "c"}, again="Click Enable again.", fingerprint="older")
