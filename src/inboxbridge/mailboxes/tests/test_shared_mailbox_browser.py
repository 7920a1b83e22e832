"""In Chromium, against Dovecot, Postfix and the identity stand-in: an administrator sets up a
system mailbox each way that involves a sign-in, grants a role, and a member of the role reads its
mail while everyone else gets 404 on every URL of it.

- Delegate to a shared mailbox: the administrator signs in at Microsoft as a person who holds Full
  Access (not as the mailbox); the page then names whose authorization it uses. Revoking the role
  hides the mailbox again.
- The mailbox's own account: the administrator signs in as the (licensed) mailbox itself.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import Group
from tests.browser import add_system_mailbox, read_in_switcher, sign_in

from inboxbridge.mail.tests.helpers import mail_urls, message, statuses
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.engine import sync_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]

PNG = bytes.fromhex("89504e470d0a1a0a")


def person(mail_settings: Any, identity: Any, name: str) -> dict[str, str]:
    """A licensed mailbox with a stand-in account (a person, or a service account)."""
    email = f"{name}-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    password = mail_settings.add_user(email)
    identity.add_user(email, password, name=name.title())
    return {"email": email, "password": password}


def deliver_with_parts(mail_settings: Any, subject: str, to: str) -> None:
    mail_settings.deliver(message(subject, to=to, html='<p>Hi</p><img src="cid:logo@x">',
                                  attachments=[("report.pdf", "application/pdf", b"%PDF report")],
                                  inline=[("logo@x", "image/png", PNG)]), to=to)


def sign_in_at_microsoft(page: Any, account: dict[str, str]) -> None:
    page.wait_for_selector("input[name=password]")
    page.fill("input[name=username]", account["email"])
    page.fill("input[name=password]", account["password"])
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("#system-mailbox-form")


def pick_inbox_and_role(page: Any, label: str, role: str) -> None:
    page.click("#retrieve-folders")
    page.wait_for_selector("#folder-form")
    page.check("#folder-form label:has-text('INBOX') input")
    page.click("#save-folders")
    page.wait_for_selector(".message.success:has-text('Folder selection saved')")
    page.check(f"#system-mailbox-form label:has-text('{role}') input")
    page.click("#system-mailbox-form button[type=submit]")
    page.wait_for_selector(f".message.success:has-text('{label} saved')")


@pytest.fixture
def people(django_user_model: Any) -> dict[str, Any]:
    role = Group.objects.create(name="Support team")
    member = django_user_model.objects.create_user("agent", "agent@example.test", "agent-password-1")
    member.groups.add(role)
    outsider = django_user_model.objects.create_user("visitor", "visitor@example.test", "visitor-password-1")
    return {"role": role, "member": member, "outsider": outsider}


def test_an_admin_connects_a_shared_mailbox_through_a_delegate_and_a_role_reads_it(
        browser_context, live_server, enabled_microsoft, mail_settings, identity, people, client):
    dana = person(mail_settings, identity, "dana")
    shared = f"support-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    mail_settings.add_shared_mailbox(shared)
    identity.grant_full_access(shared, dana["email"])
    deliver_with_parts(mail_settings, "Printer on fire", shared)

    page = browser_context.new_page()
    sign_in(page, live_server, "admin", "admin-password-1")
    add_system_mailbox(page, "Support", shared, Mailbox.AccountType.OFFICE365_SHARED)
    assert "anyone who holds Full Access" in page.inner_text("#delegate-help")
    page.click("#connect-button")
    sign_in_at_microsoft(page, dana)  # Dana, who holds Full Access; not the shared mailbox
    assert f"through the sign-in of {dana['email']}" in page.inner_text(".messages")
    assert page.inner_text("#signed-in-as") == dana["email"]
    assert "Reconnect" in page.inner_text("#connect-button")
    pick_inbox_and_role(page, "Support", "Support team")

    mailbox = Mailbox.objects.get(label="Support", active=True)
    assert (mailbox.account_type, mailbox.signed_in_as) == (Mailbox.AccountType.OFFICE365_SHARED, dana["email"])
    assert sync_mailbox(mailbox.pk).fetched == 1

    read_in_switcher(page, live_server, "agent", "agent-password-1", "Support", "Printer on fire")

    urls = mail_urls(mailbox.emails.get(), attachment="report.pdf", content_id="logo@x")
    client.force_login(people["member"])
    assert all(code in (200, 302) for code in statuses(client, urls).values()), statuses(client, urls)
    client.force_login(people["outsider"])
    assert set(statuses(client, urls).values()) == {404}

    # Out of the role: the mailbox and every URL of it are gone for them.
    chosen = page.url
    people["member"].groups.remove(people["role"])
    assert page.goto(chosen).status == 404
    page.goto(f"{live_server.url}/mail/")
    assert page.locator("#mailbox-switcher a:has-text('Support')").count() == 0
    assert "Printer on fire" not in page.content()
    client.force_login(people["member"])
    assert set(statuses(client, urls).values()) == {404}


def test_an_admin_connects_a_system_mailbox_as_its_own_account_and_a_role_reads_it(
        browser_context, live_server, enabled_microsoft, mail_settings, identity, people):
    desk = person(mail_settings, identity, "desk")
    deliver_with_parts(mail_settings, "Welcome to the desk", desk["email"])

    page = browser_context.new_page()
    sign_in(page, live_server, "admin", "admin-password-1")
    add_system_mailbox(page, "Service Desk", desk["email"], Mailbox.AccountType.OFFICE365)
    page.click("#connect-button")
    assert page.wait_for_selector("input[name=username]").input_value() == desk["email"]  # the mailbox, hinted
    sign_in_at_microsoft(page, desk)
    assert page.inner_text("#connected-account") == desk["email"]
    pick_inbox_and_role(page, "Service Desk", "Support team")

    mailbox = Mailbox.objects.get(label="Service Desk", active=True)
    assert sync_mailbox(mailbox.pk).fetched == 1
    read_in_switcher(page, live_server, "agent", "agent-password-1", "Service Desk", "Welcome to the desk")
