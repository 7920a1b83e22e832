"""System > Configuration > Other Mail Servers: whether users may add Other accounts, and to which
servers; administrators only, validated, audited, with environment defaults."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.mailboxes.checks import check_other_account_servers
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.server_policy import name_refusal

PAGE = reverse("mailbox-settings:other-mail-servers")

pytestmark = pytest.mark.django_db


def test_only_administrators_see_or_change_it(client, plain_user, admin_user) -> None:
    assert client.get(PAGE).status_code == 302  # to sign-in
    client.force_login(plain_user)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"allowed_hosts": "evil.example.net", "enabled": "on"}).status_code == 403
    assert "Other Mail Servers" not in client.get(reverse("mailboxes:email-configuration")).content.decode()
    client.force_login(admin_user)
    assert f'href="{PAGE}">Other Mail Servers</a>' in client.get(PAGE).content.decode()
    assert not AuditEvent.objects.filter(action="other_accounts.settings_changed").exists()


def test_saving_stores_the_switch_and_the_allowlist_and_audits_it(client, admin_user) -> None:
    client.force_login(admin_user)
    page = client.get(PAGE).content.decode()
    assert 'id="id_enabled" checked' in page  # allowed by default: existing Other accounts keep working
    answer = client.post(PAGE, {"allowed_hosts": "IMAP.example.com\n*.example.org, imap.example.com"}, follow=True)
    page = answer.content.decode()
    assert "Settings saved: Allow Other accounts, Allowed mail servers." in page
    assert 'id="id_enabled" checked' not in page
    assert "imap.example.com, *.example.org</textarea>" in page
    event = AuditEvent.objects.get(action="other_accounts.settings_changed")
    assert event.actor == admin_user and event.detail == {"changed": ["Allow Other accounts", "Allowed mail servers"]}


def test_entries_that_are_not_hosts_are_named_and_nothing_is_saved(client, admin_user) -> None:
    client.force_login(admin_user)
    page = client.post(PAGE, {"enabled": "on", "allowed_hosts": "ok.example.com, http://x/, 10.0.0.0/8"}).content
    assert "Not a host name, IP address or *.domain: http://x/, 10.0.0.0/8." in page.decode()
    assert not AuditEvent.objects.filter(action="other_accounts.settings_changed").exists()


def test_the_administrator_is_told_how_many_accounts_a_change_stops(client, admin_user, plain_user) -> None:
    Mailbox.objects.create(owner=plain_user, account_type=Mailbox.AccountType.OTHER, email_address="a@old.test",
                           imap_host="imap.old.test", smtp_host="mail.example.org")
    client.force_login(admin_user)
    page = client.post(PAGE, {"enabled": "on", "allowed_hosts": "*.example.org"}, follow=True).content.decode()
    assert "Connected Other accounts these settings stop from synchronizing and sending: 1." in page
    page = client.post(PAGE, {"enabled": "on", "allowed_hosts": "*.example.org, *.old.test"}, follow=True)
    assert "these settings stop" not in page.content.decode()


def test_the_environment_gives_the_defaults_and_the_private_network_switch_is_shown(
        client, admin_user, settings) -> None:
    settings.OTHER_ACCOUNTS_ENABLED = False
    settings.OTHER_ACCOUNTS_ALLOWED_HOSTS = "mail.example.com"
    settings.ALLOW_PRIVATE_MAIL_HOSTS = False
    client.force_login(admin_user)
    page = client.get(PAGE).content.decode()
    assert 'id="id_enabled" checked' not in page and "mail.example.com</textarea>" in page
    assert "For an on-premises mail server, set INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS=true." in page
    settings.ALLOW_PRIVATE_MAIL_HOSTS = True
    page = client.get(PAGE).content.decode()
    assert "Private, loopback and link-local addresses are <strong>allowed</strong>" in page


def test_a_malformed_environment_allowlist_is_named_at_start_and_matches_nothing(settings) -> None:
    settings.OTHER_ACCOUNTS_ALLOWED_HOSTS = "imap.example.com, https://mail.example.com/"
    [problem] = [p for p in check_other_account_servers(None) if p.id == "inboxbridge.E004"]
    assert "https://mail.example.com/" in problem.msg
    assert "is not one of the mail servers" in name_refusal("imap.example.com")
