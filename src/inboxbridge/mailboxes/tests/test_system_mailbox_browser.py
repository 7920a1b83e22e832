"""An administrator sets up a system mailbox of type Other in a real browser against Dovecot, grants
a role, and a member of that role reads its mail in My Emails through the mailbox switcher."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group
from tests.browser import add_system_mailbox, sign_in

from inboxbridge.mail.tests.helpers import message
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.engine import sync_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


def test_an_admin_sets_up_a_system_mailbox_and_a_role_member_reads_it(
        browser_context, live_server, mail_stack, identity, settings, django_user_model):
    settings.CA_BUNDLE = str(identity.ca_file)
    address = f"help-{uuid.uuid4().hex[:6]}@example.test"
    password = mail_stack.add_user(address)
    mail_stack.deliver(message("Printer on fire"), to=address)
    Group.objects.create(name="Support team")
    django_user_model.objects.create_user("boss", "boss@example.test", "boss-password-1", is_staff=True)
    agent = django_user_model.objects.create_user("agent", "agent@example.test", "agent-password-1")
    agent.groups.add(Group.objects.get(name="Support team"))

    page = browser_context.new_page()
    sign_in(page, live_server, "boss", "boss-password-1")
    add_system_mailbox(page, "Help Desk", address, "other")
    page.wait_for_selector("#other-account-form")

    page.fill("#other-account-form input[name=imap_host]", mail_stack.host)
    page.fill("#other-account-form input[name=imap_port]", str(mail_stack.imaps_port))
    page.check("#other-account-form input[name=imap_ssl]")
    page.fill("#other-account-form input[name=smtp_host]", mail_stack.host)
    page.fill("#other-account-form input[name=smtp_port]", str(mail_stack.submission_port))
    page.fill("#other-account-form input[name=username]", address)
    page.fill("#other-account-form input[name=password]", password)
    page.click("#other-account-form button:has-text('Check and Save')")
    page.wait_for_selector(".message.success:has-text('checked and saved')")

    page.click("#retrieve-folders")
    page.wait_for_selector("#folder-form")
    page.check("#folder-form label:has-text('INBOX') input")
    page.click("#save-folders")
    page.wait_for_selector(".message.success:has-text('Folder selection saved')")

    page.check("#system-mailbox-form label:has-text('Support team') input")
    page.click("#system-mailbox-form button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Help Desk saved')")
    page.goto(f"{live_server.url}/system/configuration/email-configuration/system-mailboxes/")
    assert "Help Desk" in page.inner_text("#system-mailboxes") and address in page.inner_text("#system-mailboxes")

    assert sync_mailbox(Mailbox.objects.get(label="Help Desk").pk).fetched == 1

    browser_context.clear_cookies()
    sign_in(page, live_server, "agent", "agent-password-1")
    switcher = page.locator("#mailbox-switcher")
    assert "Help Desk" in switcher.inner_text() and "1" in switcher.locator("a:has-text('Help Desk')").inner_text()
    switcher.locator("a:has-text('Help Desk')").click()
    page.wait_for_selector("#email-list:has-text('Printer on fire')")
