"""Office 365 system mailboxes: Connect signs in as the mailbox's own account through the one
Redirect URI; only an administrator may finish it, and only with the mailbox's own account."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from tests.factories import make_mailbox
from tests.fixtures import sign_in_without_browser

from inboxbridge.mailboxes.models import Mailbox

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]

CALLBACK = reverse("microsoft:callback")


@pytest.fixture
def account(enabled_microsoft, mail_settings, identity):
    """A licensed service account: a Dovecot user and a stand-in account."""
    email = f"desk-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    password = mail_settings.add_user(email)
    identity.add_user(email, password, name="Service Desk")
    return {"email": email, "password": password}


def system_mailbox(email: str) -> Mailbox:
    return make_mailbox(None, folders=(), label="Service Desk", email_address=email, account_type="office365",
                        password="", imap_host="", smtp_host="")


def sign_in_at_microsoft(client, mailbox, email, password, identity):
    started = client.post(reverse("mailbox-settings:system-mailbox-connect", args=[mailbox.pk]))
    assert started.status_code == 302
    return sign_in_without_browser(started["Location"], email, password, str(identity.ca_file))


def test_an_administrator_connects_a_system_mailbox_as_its_own_account(client, admin_user, account, identity):
    mailbox = system_mailbox(account["email"])
    client.force_login(admin_user)
    answer = sign_in_at_microsoft(client, mailbox, account["email"], account["password"], identity)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert f"Connected Account: {account['email']}" in page
    mailbox.refresh_from_db()
    assert mailbox.token_cache and mailbox.ms_oid and mailbox.owner is None
    retrieved = client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]),
                            follow=True).content.decode()
    assert "Retrieved" in retrieved and 'id="folder-form"' in retrieved


def test_another_account_is_refused(client, admin_user, account, identity):
    mailbox = system_mailbox(f"other-{uuid.uuid4().hex[:6]}@example.test")
    client.force_login(admin_user)
    answer = sign_in_at_microsoft(client, mailbox, account["email"], account["password"], identity)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert f"Microsoft signed in {account['email']}, not {mailbox.email_address}" in page
    mailbox.refresh_from_db()
    assert not mailbox.token_cache


def test_only_an_administrator_finishes_the_connection(client, admin_user, plain_user, account, identity):
    mailbox = system_mailbox(account["email"])
    client.force_login(plain_user)
    assert client.post(reverse("mailbox-settings:system-mailbox-connect", args=[mailbox.pk])).status_code == 403
    client.force_login(admin_user)
    answer = sign_in_at_microsoft(client, mailbox, account["email"], account["password"], identity)
    admin_user.is_staff = False  # demoted between the start and the end of the sign-in
    admin_user.save()
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "Only administrators can connect a system mailbox." in page
    mailbox.refresh_from_db()
    assert not mailbox.token_cache
