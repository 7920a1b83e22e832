"""In Chromium: an administrator picks the system mailbox that sends the application's email and
sends a test email, which arrives over the local Postfix; a user whose mailbox was revoked sees the
unread count, reads the notification, and switches the kind off."""

from __future__ import annotations

import uuid

import pytest
from tests.browser import sign_in
from tests.factories import make_mailbox

from inboxbridge.mailboxes.actions import require_reconnect
from inboxbridge.notifications.models import Kind, Preference
from inboxbridge.notifications.tasks import scan_for_notifications
from inboxbridge.sending.tests.helpers import wait_for_messages

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


def test_an_administrator_chooses_the_mailbox_and_a_test_email_arrives(
        browser_context, live_server, other_system_mailbox, mail_stack, settings, django_user_model):
    settings.EMAIL_BACKEND = "inboxbridge.sending.email_backend.SystemMailboxEmailBackend"
    settings.APPLICATION_EMAIL_MAILBOX = ""
    address = f"boss-{uuid.uuid4().hex[:6]}@{mail_stack.domain}"
    mail_stack.add_user(address)
    django_user_model.objects.create_user("boss", address, "boss-password-1", is_staff=True)

    page = browser_context.new_page()
    sign_in(page, live_server, "boss", "boss-password-1")
    page.click("summary:has-text('System')")
    page.click("a:has-text('Application Email')")
    page.wait_for_selector("#sending-problem:has-text('No mailbox is chosen')")
    page.select_option("#id_mailbox", other_system_mailbox.email_address.lower())
    page.click("#application-email button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Application email saved.')")
    assert page.locator("#sending-problem").count() == 0
    page.click("#test-email button[type=submit]")
    page.wait_for_selector(f".message.success:has-text('A test email was sent to {address}.')")

    [(received, _flags)] = wait_for_messages(mail_stack, address)
    assert received["Subject"] == "inboxbridge test email"
    assert received["From"].addresses[0].addr_spec == other_system_mailbox.email_address


def test_a_user_reads_a_notification_and_switches_the_kind_off(browser_context, live_server, django_user_model):
    user = django_user_model.objects.create_user("olga", "olga@example.test", "olga-password-1")
    mailbox = make_mailbox(user, account_type="office365")
    require_reconnect(mailbox, "AADSTS50173: The provided grant has expired due to it being revoked.")
    scan_for_notifications.call()

    page = browser_context.new_page()
    sign_in(page, live_server, "olga", "olga-password-1")
    assert page.locator("#unread-notifications").inner_text() == "1"
    page.click("summary:has-text('My Configuration')")
    page.click("#notifications-link")
    item = page.locator("#notifications li").first
    assert f"New: Reconnect your mailbox {mailbox.email_address}" in item.inner_text()
    assert "AADSTS50173" in item.inner_text()
    item.get_by_role("button", name="Mark as read").click()
    page.wait_for_selector("#notifications li.read")
    assert page.locator("#unread-notifications").count() == 0

    page.click("a:has-text('Notification settings')")
    page.uncheck(f"#id_{Kind.MAILBOX_REVOKED}-email")
    page.click("#notification-settings button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Your notification choices were saved.')")
    assert Preference.objects.get(user=user, kind=Kind.MAILBOX_REVOKED).by_email is False
    assert page.is_checked(f"#id_{Kind.MAILBOX_REVOKED}-app")
