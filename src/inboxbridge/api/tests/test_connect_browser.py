"""In Chromium, against the identity stand-in and Dovecot: an application makes a connect link with
its token, a person who has no inboxbridge account opens it, reads who asks, clicks Continue, signs
in at Microsoft and lands back on the application's page with the outcome; the application then
lists the mailbox through the API, and its first sync lists its folders. A refused sign-in lands
there too, with Microsoft's AADSTS code."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from inboxbridge.api.tests.conftest import make_token
from inboxbridge.mailboxes.models import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def application() -> Iterator[SimpleNamespace]:
    """The application's own site, where the browser comes back to: it shows a page and keeps the
    paths it was asked for."""
    visits: list[str] = []

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            visits.append(self.path)
            body = b"<!doctype html><title>Acme CRM</title><h1>Back in Acme CRM</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", visits=visits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def crm(django_user_model, enabled_microsoft):
    """The application's service user and its token."""
    user = django_user_model.objects.create_user("crm", "crm@example.test", "crm-password-1", first_name="Acme",
                                                 last_name="CRM")
    return {"user": user, "token": make_token(user, ["mail:read", "mailboxes:manage"])}


@pytest.fixture
def dana(mail_settings, identity):
    """A person with an Office 365 mailbox (Dovecot behind the stand-in), and no inboxbridge account."""
    email = f"dana-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    password = mail_settings.add_user(email)
    identity.add_user(email, password, name="Dana")
    return {"email": email, "password": password}


def make_link(page, live_server, crm, **body) -> str:
    made = page.request.post(f"{live_server.url}/api/v1/mailboxes/connect-links", data=body,
                             headers={"Authorization": f"Bearer {crm['token']}"})
    assert made.status == 201, made.text()
    return made.json()["url"]


def api_get(page, live_server, crm, path: str):
    answer = page.request.get(f"{live_server.url}/api/v1{path}", headers={"Authorization": f"Bearer {crm['token']}"})
    assert answer.status == 200, answer.text()
    return answer.json()


def landed(page, application) -> dict[str, str]:
    page.wait_for_url(f"{application.url}/connected?**")
    expect(page.locator("h1")).to_have_text("Back in Acme CRM")
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def test_a_person_connects_their_mailbox_through_a_link_and_the_application_reads_it(
        browser_context, live_server, crm, dana, application, mail_settings):
    welcome = EmailMessage()
    welcome["From"], welcome["To"], welcome["Subject"] = "bob@elsewhere.test", dana["email"], "Welcome"
    welcome.set_content("Hello Dana")
    mail_settings.deliver(welcome, to=dana["email"])
    page = browser_context.new_page()
    url = make_link(page, live_server, crm, redirect_url=f"{application.url}/connected?customer=42",
                    login_hint=dana["email"])
    assert url.startswith(f"{live_server.url}/connect/")

    page.goto(url)
    expect(page.locator("#connect-request")).to_contain_text("Acme CRM asks to connect your Office 365 mailbox")
    expect(page.locator("#connect-readers")).to_contain_text("the application using their API token “crm app”")
    expect(page.locator("#connect-return")).to_have_text(urlsplit(application.url).netloc)
    expect(page.locator("form.signout")).to_have_count(0)  # nobody is signed in to inboxbridge
    assert application.visits == []  # nothing happened before Continue
    page.click("#connect-continue")
    page.wait_for_selector("input[name=password]")
    assert page.input_value("input[name=username]") == dana["email"]  # the login_hint
    page.fill("input[name=password]", dana["password"])
    page.click("button:has-text('Sign in')")

    outcome = landed(page, application)
    assert outcome["status"] == "connected" and outcome["customer"] == "42"
    mailbox_id = int(outcome["mailbox"])
    listed = api_get(page, live_server, crm, "/mailboxes")
    assert [(m["id"], m["email_address"], m["account_type"]) for m in listed] == [
        (mailbox_id, dana["email"], "office365")]
    assert Mailbox.objects.get(pk=mailbox_id).owner == crm["user"]

    # The sync queued on connecting lists the mailbox's folders, as for a mailbox connected on its page.
    call_command("db_worker", "--batch", verbosity=0)
    folders = {f["name"] for f in api_get(page, live_server, crm, f"/mailboxes/{mailbox_id}/folders")}
    assert "INBOX" in folders

    # The link worked once.
    page.goto(url)
    expect(page.locator("h1")).to_have_text("This link was already used")


def test_a_refused_sign_in_lands_on_the_application_with_the_aadsts_code(
        browser_context, live_server, crm, dana, application, identity):
    page = browser_context.new_page()
    page.goto(make_link(page, live_server, crm, redirect_url=f"{application.url}/connected"))
    identity.inject("authorize", "consent_required")
    page.click("#connect-continue")

    outcome = landed(page, application)
    assert outcome["status"] == "error" and outcome["error"] == "consent_required"
    assert outcome["error_description"].startswith("AADSTS65001: The user or administrator has not consented")
    assert not Mailbox.objects.exists()
