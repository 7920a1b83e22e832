"""A user's whole story in a real browser against Dovecot, Postfix and the identity stand-in:
connect, retrieve folders, sync, new mail, a revoked token, Reconnect."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from tests.browser import sign_in as sign_in_with_password

from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.eligibility import sync_refusal
from inboxbridge.mailboxes.models import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


def message(subject: str, to: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Bob Sender <bob@elsewhere.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@elsewhere.test>"
    msg.set_content(f"Body of {subject}")
    return msg


def run_background_work() -> None:
    call_command("db_worker", "--batch", verbosity=0)


@pytest.fixture
def person(enabled_microsoft, mail_settings, identity, django_user_model):
    email = f"carol-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    password = mail_settings.add_user(email)
    identity.add_user(email, password, name="Carol")
    user = django_user_model.objects.create_user("carol", email, "carol-password-1")
    return {"user": user, "email": email, "password": password}


def sign_in(page, live_server) -> None:
    sign_in_with_password(page, live_server, "carol", "carol-password-1")


def microsoft_sign_in(page, person) -> None:
    page.wait_for_selector("input[name=password]")
    assert page.input_value("input[name=username]") == person["email"]  # login_hint
    page.fill("input[name=password]", person["password"])
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Email Configuration')")


def test_connect_pick_folders_sync_revoke_and_reconnect(browser_context, live_server, person, mail_settings,
                                                          identity):
    mail_settings.deliver(message("Welcome aboard", person["email"]), to=person["email"])
    imap = mail_settings.imap(person["email"])
    imap.create("Projects")
    imap.append("Projects", None, None, message("Project plan", person["email"]).as_bytes())
    imap.logout()

    page = browser_context.new_page()
    sign_in(page, live_server)
    page.click("summary:has-text('My Configuration')")
    page.click("a:has-text('Email Configuration')")
    page.select_option("#id_account_type", "office365")
    page.wait_for_selector("#connect-button")
    identity.access_token_lifetime = 60  # every use refreshes: exercises rotation throughout
    page.click("#connect-button")
    microsoft_sign_in(page, person)
    assert page.inner_text("#connected-account") == person["email"]
    assert "Connected Account:" in page.inner_text("#office365-panel")

    page.click("#retrieve-folders")
    page.wait_for_selector("#folder-form")
    labels = page.inner_text("#folder-form")
    assert "INBOX" in labels and "Projects" in labels and "Sent" in labels
    page.check("#folder-form label:has-text('INBOX') input")
    page.check("#folder-form label:has-text('Projects') input")
    page.click("#save-folders")
    page.wait_for_selector(".message.success")

    page.click("#sync-now")
    page.wait_for_selector(".message.success")
    run_background_work()
    page.reload()
    assert page.inner_text("#message-count") == "2"
    page.goto(f"{live_server.url}/mail/")
    assert "Welcome aboard" in page.content() and "Project plan" in page.content()

    # New mail through Postfix appears after the next sync, and only it is fetched.
    mail_settings.deliver(message("Second news", person["email"]), to=person["email"])
    from inboxbridge.sync.engine import sync_mailbox

    mailbox = Mailbox.objects.get(owner=person["user"], active=True)
    result = sync_mailbox(mailbox.pk)
    assert result.fetched == 1
    page.reload()
    assert "Second news" in page.content()

    # Microsoft revokes the grant: sync switches off and the owner is told.
    identity.revoke_refresh_tokens(person["email"])
    sync_mailbox(mailbox.pk)
    mailbox.refresh_from_db()
    assert mailbox.needs_reconnect
    page.reload()
    assert "Please click Reconnect" in page.inner_text(".alerts")
    page.click(".alerts a:has-text('Reconnect')")
    assert "Email synchronization has been disabled. Please click Reconnect to enable the sync." in page.inner_text(
        "#reconnect-banner")

    page.click("#reconnect-button")
    microsoft_sign_in(page, person)
    assert page.locator("#reconnect-banner").count() == 0
    mailbox.refresh_from_db()
    assert sync_refusal(mailbox) is None
    mail_settings.deliver(message("After reconnect", person["email"]), to=person["email"])
    assert sync_mailbox(mailbox.pk).fetched == 1
    subjects = set(Email.objects.filter(mailbox=mailbox).values_list("subject", flat=True))
    assert subjects == {"Welcome aboard", "Project plan", "Second news", "After reconnect"}
