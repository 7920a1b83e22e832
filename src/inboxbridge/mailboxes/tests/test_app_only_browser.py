"""In Chromium: an administrator sets up an app-only system mailbox (no person signs in), pastes
the Enterprise application's Object ID, reads the Exchange Online PowerShell with this tenant's
and app's values, grants admin consent, Tests (told exactly what is missing until Exchange grants
it, then OK), retrieves its folders and grants a role; a member of the role reads its mail, and a
user outside the role gets 404 on every URL of it."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group
from tests.browser import add_system_mailbox, sign_in

from inboxbridge.mail.tests.helpers import mail_urls, message, statuses
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import client as microsoft_client
from inboxbridge.sending.tests.helpers import wait_for_messages
from inboxbridge.sync.engine import sync_mailbox

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]

PNG = bytes.fromhex("89504e470d0a1a0a")


def test_an_admin_sets_up_an_app_only_mailbox_and_only_the_role_reads_it(
        browser_context, live_server, enabled_microsoft, mail_settings, identity, django_user_model, client):
    microsoft_client.forget_app_tokens()  # this process's tokens of earlier tests' apps are no use here
    address = f"billing-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    mail_settings.add_shared_mailbox(address)
    identity.set_application_permissions(enabled_microsoft.client_id, ["IMAP.AccessAsApp", "SMTP.SendAsApp"])
    object_id = identity.enterprise_app_object_id(enabled_microsoft.client_id)
    mail_settings.deliver(message("Invoice 42 overdue", to=address, html='<p>Pay</p><img src="cid:logo@x">',
                                  attachments=[("invoice.pdf", "application/pdf", b"%PDF invoice")],
                                  inline=[("logo@x", "image/png", PNG)]), to=address)
    wait_for_messages(mail_settings, address)
    role = Group.objects.create(name="Billing team")
    member = django_user_model.objects.create_user("clerk", "clerk@example.test", "clerk-password-1")
    member.groups.add(role)
    outsider = django_user_model.objects.create_user("visitor", "visitor@example.test", "visitor-password-1")

    page = browser_context.new_page()
    sign_in(page, live_server, "admin", "admin-password-1")
    add_system_mailbox(page, "Billing", address, Mailbox.AccountType.OFFICE365_APP)
    page.wait_for_selector("#app-only")
    assert "<Enterprise application Object ID>" in page.inner_text("#exchange-powershell")

    page.fill("#id_object_id", object_id)
    page.click("#object-id-form button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Object ID saved')")
    powershell = page.inner_text("#exchange-powershell")
    assert f"Connect-ExchangeOnline -Organization {identity.tenant_id}" in powershell
    assert f"New-ServicePrincipal -AppId {enabled_microsoft.client_id} -ObjectId {object_id}" in powershell
    assert f"Add-MailboxPermission -Identity {address} -User {object_id} -AccessRights FullAccess" in powershell
    assert f"Add-RecipientPermission -Identity {address} -Trustee {object_id} -AccessRights SendAs" in powershell

    page.click("#app-admin-consent")  # to the stand-in's consent page and back through the Redirect URI
    page.wait_for_selector(".message.success:has-text('granted consent')")
    page.click("#app-only-test")
    page.wait_for_selector(".message.error:has-text('is not registered in Exchange')")

    # What the Exchange administrator does with the commands on the page.
    identity.register_service_principal(enabled_microsoft.client_id, object_id)
    identity.grant_full_access(address, object_id)
    identity.grant_send_as(address, object_id)
    page.click("#app-only-test")
    page.wait_for_selector(f".message.success:has-text('SMTP: the application may send as {address}')")
    assert f"IMAP: the application opened {address}" in page.inner_text(".messages")
    assert page.locator(".message.error").count() == 0

    page.click("#retrieve-folders")
    page.wait_for_selector("#folder-form")
    page.check("#folder-form label:has-text('INBOX') input")
    page.click("#save-folders")
    page.wait_for_selector(".message.success:has-text('Folder selection saved')")
    page.check("#system-mailbox-form label:has-text('Billing team') input")
    page.click("#system-mailbox-form button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Billing saved')")

    mailbox = Mailbox.objects.get(label="Billing", active=True)
    assert mailbox.account_type == Mailbox.AccountType.OFFICE365_APP
    assert sync_mailbox(mailbox.pk).fetched == 1

    browser_context.clear_cookies()
    sign_in(page, live_server, "clerk", "clerk-password-1")
    page.locator("#mailbox-switcher").locator("a:has-text('Billing')").click()
    page.wait_for_selector("#email-list:has-text('Invoice 42 overdue')")

    urls = mail_urls(mailbox.emails.get(), attachment="invoice.pdf", content_id="logo@x")
    client.force_login(member)
    assert all(code in (200, 302) for code in statuses(client, urls).values()), statuses(client, urls)
    client.force_login(outsider)
    assert set(statuses(client, urls).values()) == {404}
