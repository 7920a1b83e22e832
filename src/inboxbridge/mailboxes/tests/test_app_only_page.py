"""The app-only section of a system mailbox's page: the Exchange Online PowerShell with this
deployment's tenant, app and Enterprise application Object ID, the application permissions, the
admin-consent link for them, and the Object ID field that refuses the usual mistakes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.configuration.models import StoredSetting
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import CLIENT_ID, CLIENT_SECRET, TENANT_ID

pytestmark = pytest.mark.django_db

TENANT = "8f3c2a51-6d0e-4b7a-9c1f-2e5d7a9b4c60"
APP = "0a1b2c3d-1111-4222-8333-444455556666"
ENTERPRISE_OBJECT = "9e8d7c6b-aaaa-4bbb-8ccc-ddddeeeeffff"


@pytest.fixture
def mailbox() -> Mailbox:
    for option, field, value in ((CLIENT_ID, "value", APP), (TENANT_ID, "value", TENANT),
                                 (CLIENT_SECRET, "secret_value", "secret-value")):
        StoredSetting.objects.update_or_create(key=option.key, defaults={field: value})
    return make_mailbox(None, folders=(), label="Billing", email_address="billing@contoso.test",
                        account_type=Mailbox.AccountType.OFFICE365_APP, password="", imap_host="", smtp_host="")


def page(client, mailbox: Mailbox) -> str:
    return client.get(reverse("mailbox-settings:system-mailbox", args=[mailbox.pk])).content.decode()


def save_object_id(client, mailbox: Mailbox, value: str):
    return client.post(reverse("mailbox-settings:system-mailbox-app-object-id", args=[mailbox.pk]),
                       {"object_id": value}, follow=True).content.decode()


def test_the_page_shows_the_powershell_with_this_tenant_app_and_mailbox(client, admin_user, mailbox):
    client.force_login(admin_user)
    body = page(client, mailbox)
    assert f"Connect-ExchangeOnline -Organization {TENANT}" in body
    assert f"New-ServicePrincipal -AppId {APP} -ObjectId &lt;Enterprise application Object ID&gt;" in body
    for permission in ("IMAP.AccessAsApp", "SMTP.SendAsApp", "POP.AccessAsApp"):
        assert f"<code>{permission}</code>" in body
    assert "Not the app registration's Object ID." in body
    assert 'id="folders"' in body and 'id="app-only-test"' in body

    assert "Object ID saved" in save_object_id(client, mailbox, ENTERPRISE_OBJECT.upper())
    body = page(client, mailbox)
    assert f"New-ServicePrincipal -AppId {APP} -ObjectId {ENTERPRISE_OBJECT} -DisplayName inboxbridge" in body
    assert f"Add-MailboxPermission -Identity billing@contoso.test -User {ENTERPRISE_OBJECT} -AccessRights FullAccess" \
        in body
    assert (f"Add-RecipientPermission -Identity billing@contoso.test -Trustee {ENTERPRISE_OBJECT} "
            "-AccessRights SendAs") in body


def test_the_object_id_field_refuses_a_non_guid_and_the_application_id(client, admin_user, mailbox):
    client.force_login(admin_user)
    assert "is not an Object ID" in save_object_id(client, mailbox, "billing app")
    assert "This is the Application (client) ID." in save_object_id(client, mailbox, APP)
    assert "&lt;Enterprise application Object ID&gt;" in page(client, mailbox)


def test_admin_consent_asks_for_the_application_permissions_and_comes_back_to_the_mailbox(client, admin_user,
                                                                                         mailbox):
    client.force_login(admin_user)
    started = client.post(reverse("mailbox-settings:system-mailbox-app-consent", args=[mailbox.pk]))
    assert started.status_code == 302
    target = urlsplit(started["Location"])
    query = parse_qs(target.query)
    assert target.path == f"/{TENANT}/v2.0/adminconsent"
    assert query["scope"] == ["https://outlook.office365.com/.default"] and query["client_id"] == [APP]
    answer = client.get(reverse("microsoft:callback"), {"admin_consent": "True", "tenant": TENANT,
                                                        "state": query["state"][0]})
    assert answer["Location"] == reverse("mailbox-settings:system-mailbox", args=[mailbox.pk])


def test_only_administrators_and_only_app_only_mailboxes(client, plain_user, admin_user, mailbox):
    client.force_login(plain_user)
    for name in ("system-mailbox-app-test", "system-mailbox-app-consent", "system-mailbox-app-object-id"):
        assert client.post(reverse(f"mailbox-settings:{name}", args=[mailbox.pk])).status_code == 403
    other = make_mailbox(None, folders=(), label="Other kind")
    client.force_login(admin_user)
    assert client.post(reverse("mailbox-settings:system-mailbox-app-test", args=[other.pk])).status_code == 404
    assert 'id="app-only"' not in page(client, other)
