"""Connect links: POST /mailboxes/connect-links makes a single-use link for the token's user, whose
secret is kept only as a hash; the page it opens says who asks and who reads the mail, and only its
Continue (a POST, once) goes to Microsoft. Expired, used, withdrawn and unknown links say so."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.api.models import ApiToken, ConnectLink
from inboxbridge.api.tests.conftest import bearer, make_token
from inboxbridge.api.tests.test_schemathesis import _keep_the_test_database_open  # noqa: F401  (a fixture)
from inboxbridge.configuration.models import StoredSetting
from inboxbridge.lib.redact import redact
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import EMAIL_SYNC_ENABLED

pytestmark = pytest.mark.django_db

LINKS = "/api/v1/mailboxes/connect-links"
APP = "https://crm.example.com/mailbox-connected?customer=42"


def office365(on: bool = True) -> None:
    StoredSetting.objects.update_or_create(key=EMAIL_SYNC_ENABLED.key, defaults={"value": "1" if on else "0"})


@pytest.fixture
def crm(django_user_model):
    """The application's service user, with a token that may make connect links."""
    user = django_user_model.objects.create_user("crm", "crm@example.test", "crm-password-1", first_name="Acme",
                                                 last_name="CRM")
    return {"user": user, "token": make_token(user, ["mail:read", "mailboxes:manage"])}


def make_link(client, token: str, **body):
    return client.post(LINKS, data=json.dumps(body), content_type="application/json", **bearer(token))


def secret_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def test_a_link_is_made_for_the_tokens_user_and_only_its_hash_is_kept(client, crm, settings):
    office365()
    settings.API_CONNECT_LINK_MINUTES = 45
    answer = make_link(client, crm["token"], redirect_url=APP, login_hint="dana@contoso.example")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert data["url"].startswith("http://testserver/connect/")
    expires = timezone.datetime.fromisoformat(data["expires_at"])
    assert timedelta(minutes=44) < expires - timezone.now() <= timedelta(minutes=45)
    link = ConnectLink.objects.get()
    secret = secret_of(data["url"])
    assert (link.owner, link.token.name, link.redirect_url, link.login_hint, link.mailbox, link.used_at) == (
        crm["user"], "crm app", APP, "dana@contoso.example", None, None)
    assert link.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps([*ConnectLink.objects.values(), *AuditEvent.objects.values()], default=str)
    assert secret not in stored
    created = AuditEvent.objects.get(action="api_connect_link.created")
    assert created.actor == crm["user"] and created.detail["token"] == "crm app"
    assert created.detail["returns_to"] == "https://crm.example.com"  # not the application's query
    # Django logs the path of a used or expired link: the secret in it is masked.
    assert secret not in redact(f"Gone: /connect/{secret}")


def test_a_reconnect_link_is_for_one_of_the_users_own_office365_mailboxes(client, crm, django_user_model):
    office365()
    own = make_mailbox(crm["user"], account_type=Mailbox.AccountType.OFFICE365, email_address="dana@contoso.example")
    answer = make_link(client, crm["token"], mailbox=own.pk)
    assert answer.status_code == 201
    link = ConnectLink.objects.get()
    assert link.mailbox == own and link.login_hint == "dana@contoso.example"  # the hint defaults to the mailbox

    bob = django_user_model.objects.create_user("bob", "bob@example.test", "bob-password-1")
    others = make_mailbox(bob, account_type=Mailbox.AccountType.OFFICE365)
    other_account = make_mailbox(crm["user"], email_address="crm@elsewhere.example")  # an Other account
    system = make_mailbox(None, account_type=Mailbox.AccountType.OFFICE365)
    system.authorized_users.add(crm["user"])
    for refused in (others, other_account, system):
        answer = make_link(client, crm["token"], mailbox=refused.pk)
        assert answer.status_code == 404, refused
        assert "own" in answer.json()["detail"]
    assert ConnectLink.objects.count() == 1


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"redirect_url": "ftp://crm.example.com/x"}, "redirect_url", "absolute http:// or https:// URL"),
    ({"redirect_url": "/mailbox-connected"}, "redirect_url", "absolute http:// or https:// URL"),
    ({"redirect_url": "https://crm.example.com/a b"}, "redirect_url", "absolute http:// or https:// URL"),
    ({"redirect_url": "https://user:pw@crm.example.com/"}, "redirect_url", "user name or password"),
    ({"redirect_url": "http://[::1]:8000/"}, "redirect_url", "absolute http:// or https:// URL"),
    # A host that NFKC-normalises into another one ("\u2100" is "a/c"): hosts are ASCII.
    ({"redirect_url": "https://crm\u2100.example/"}, "redirect_url", "absolute http:// or https:// URL"),
    ({"redirect_url": "https://crm.example.com@evil.example/"}, "redirect_url", "user name or password"),
    ({"redirect_url": "https://" + "a" * 2000}, "redirect_url", "at most 2000"),
    ({"login_hint": "dana"}, "login_hint", "not an email address"),
    ({"mailbox": "7"}, "mailbox", "integer"),
    ({"mailbox": 0}, "mailbox", "greater than or equal to 1"),
    ({"redirect": "https://crm.example.com/"}, "redirect", "Extra inputs are not permitted"),
])
def test_refused_fields_are_named(client, crm, body, field, words):
    office365()
    answer = make_link(client, crm["token"], **body)
    assert answer.status_code == 422, answer.content
    problem = answer.json()
    assert problem["type"] == "urn:inboxbridge:problem:validation"
    [error] = problem["errors"]
    assert error["field"] == field and error["location"] == "body" and words in error["message"]
    assert not ConnectLink.objects.exists()


def test_without_office365_there_is_no_link(client, crm):
    office365(False)
    answer = make_link(client, crm["token"])
    assert answer.status_code == 409
    assert "enable it in Microsoft Settings" in answer.json()["detail"]
    assert not ConnectLink.objects.exists()


def test_the_scope_mailboxes_manage_is_needed(client, crm):
    office365()
    answer = make_link(client, make_token(crm["user"], ["mail:read", "mail:send"]))
    assert answer.status_code == 403 and "mailboxes:manage" in answer.json()["detail"]


# -- the page the link opens ---------------------------------------------------------------------


@pytest.fixture
def link(client, crm, enabled_microsoft):
    """A link made through the API, with Microsoft set up at the identity stand-in."""
    data = make_link(client, crm["token"], redirect_url=APP).json()
    return {"path": urlsplit(data["url"]).path, "row": ConnectLink.objects.get()}


def test_the_page_says_who_asks_and_who_reads_and_goes_nowhere_by_itself(client, link, identity):
    authorizations = identity.count("authorize")
    page = client.get(link["path"])
    assert page.status_code == 200 and "Location" not in page
    assert "no-cache" in page["Cache-Control"] and page["X-Frame-Options"] == "DENY"
    text = page.content.decode()
    assert "<strong>Acme CRM</strong> asks to connect your Office 365 mailbox" in text
    assert "readable by <strong>Acme CRM</strong> and by the application using their API token" in text
    assert "“crm app”" in text and "can also send" not in text  # the token has no mail:send
    assert 'id="connect-return">crm.example.com<' in text
    assert identity.count("authorize") == authorizations  # nothing went to Microsoft
    assert ConnectLink.objects.get().used_at is None


def test_continue_goes_to_microsoft_once(client, link, identity):
    started = client.post(link["path"], {"answer": "continue"})
    assert started.status_code == 302 and started["Location"].startswith(identity.authority_host)
    assert ConnectLink.objects.get().used_at is not None
    again = client.post(link["path"], {"answer": "continue"})
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert client.get(link["path"]).status_code == 410


def test_continue_needs_the_pages_csrf_token(link):
    from django.test import Client

    answer = Client(enforce_csrf_checks=True).post(link["path"], {"answer": "continue"})
    assert answer.status_code == 403
    assert ConnectLink.objects.get().used_at is None


def test_declining_ends_the_link_and_tells_the_application(client, link):
    answer = client.post(link["path"], {"answer": "decline"})
    assert answer.status_code == 302
    location = urlsplit(answer["Location"])
    assert answer["Location"].startswith(APP + "&")  # the application's own query stays
    query = parse_qs(location.query)
    assert query["status"] == ["error"] and query["error"] == ["declined"] and query["customer"] == ["42"]
    assert ConnectLink.objects.get().used_at is not None
    assert AuditEvent.objects.get(action="api_connect_link.refused").detail["error"] == "declined"
    assert client.post(link["path"], {"answer": "continue"}).status_code == 410


def test_a_sign_in_that_cannot_start_tells_the_application(client, link, settings):
    settings.MICROSOFT_AUTHORITY_HOST = "https://127.0.0.1:9"
    answer = client.post(link["path"], {"answer": "continue"})
    query = parse_qs(urlsplit(answer["Location"]).query)
    assert query["status"] == ["error"] and query["error"] == ["unreachable"]
    assert query["error_description"][0].startswith("Could not start the sign-in at Microsoft. unreachable:")


@pytest.mark.parametrize(("change", "status", "words"), [
    (lambda link: ConnectLink.objects.filter(pk=link.pk).update(expires_at=timezone.now()), 410, "has expired"),
    (lambda link: ConnectLink.objects.filter(pk=link.pk).update(used_at=timezone.now()), 410, "already used"),
    (lambda link: ApiToken.objects.filter(pk=link.token_id).update(revoked_at=timezone.now()), 410,
     "access to inboxbridge was withdrawn"),
    (lambda link: link.owner.__class__.objects.filter(pk=link.owner_id).update(is_active=False), 410,
     "access to inboxbridge was withdrawn"),
    (lambda link: office365(False), 409, "has to enable Office 365"),
])
def test_a_link_that_cannot_be_used_says_why(client, link, change, status, words):
    change(link["row"])
    for answer in (client.get(link["path"]), client.post(link["path"], {"answer": "continue"})):
        assert answer.status_code == status
        assert words in answer.content.decode()
        assert "Location" not in answer
    if status == 409:  # not spent: it works once Office 365 is enabled again
        assert ConnectLink.objects.get().used_at is None


@pytest.mark.parametrize("path", ["/connect/" + "A" * 43, "/connect/short", "/connect/%C3%A9" + "a" * 42])
def test_an_unknown_link_is_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404
    assert "no connect link like this one" in answer.content.decode()


# -- the document --------------------------------------------------------------------------------

connect_links_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler()).include(
    path="/api/v1/mailboxes/connect-links")


@connect_links_schema.parametrize()
@hypothesis.settings(max_examples=30, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))
@pytest.mark.usefixtures("_keep_the_test_database_open")
def test_with_office365_enabled_every_request_the_document_allows_makes_a_link(case, crm, settings):
    """schemathesis: what the document calls valid is answered 201 (or 404 for a mailbox id that is
    not the user's), what it refuses is refused, and every answer matches the document."""
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    office365()
    case.call_and_validate(headers={"Authorization": f"Bearer {crm['token']}"})
