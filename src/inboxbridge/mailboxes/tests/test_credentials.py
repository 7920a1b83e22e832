"""Each kind of account logs in through its own credential provider: a password account with its
stored password on the servers its user typed (vetted at every login), an Office 365 mailbox with
its user's access token on Microsoft's servers; a kind without a provider cannot connect."""

from __future__ import annotations

import re
from typing import Any

import pytest

from inboxbridge.mailboxes import tokens
from inboxbridge.mailboxes.credentials import imap_login, provider_for, smtp_login
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.server_policy import ServerRefused
from inboxbridge.mailboxes.tokens import MailboxUnavailable
from inboxbridge.mailserver.login import ServerLogin

pytestmark = pytest.mark.django_db


def other(**fields: Any) -> Mailbox:
    values = {"account_type": Mailbox.AccountType.OTHER, "email_address": "me@example.test",
              "imap_host": "127.0.0.1", "smtp_host": "127.0.0.1", "password": "typed-password", **fields}
    return Mailbox(**values)


def office365() -> Mailbox:
    return Mailbox(account_type=Mailbox.AccountType.OFFICE365, email_address="me@contoso.test")


def test_every_kind_of_account_has_a_provider():
    for kind in Mailbox.AccountType:
        assert provider_for(Mailbox(account_type=kind)).kind == kind


def test_a_mailbox_of_a_kind_without_a_provider_cannot_connect():
    mailbox = Mailbox(account_type="shared", email_address="team@example.test")
    refusal = re.escape("cannot connect team@example.test: it does not know its kind")
    with pytest.raises(MailboxUnavailable, match=refusal):
        imap_login(mailbox)


def test_a_password_account_logs_in_with_its_password_on_its_own_servers():
    mailbox = other(imap_ssl=True, smtp_port=465, smtp_security="ssl", username="me")
    vetted = ("127.0.0.1",)  # the addresses the connection goes to (test_dns_rebinding.py)
    assert imap_login(mailbox) == ServerLogin("127.0.0.1", 993, "ssl", "me", "PLAIN", "typed-password", vetted)
    assert smtp_login(mailbox) == ServerLogin("127.0.0.1", 465, "ssl", "me", "PLAIN", "typed-password", vetted)

    defaults = other(imap_ssl=False, smtp_security="")
    assert (imap_login(defaults).port, imap_login(defaults).security) == (143, "starttls")
    assert (smtp_login(defaults).port, smtp_login(defaults).security) == (587, "starttls")
    assert smtp_login(defaults).username == "me@example.test"
    assert not provider_for(mailbox).renewable and provider_for(mailbox).servers_typed_by_user


def test_a_password_accounts_servers_are_vetted_at_every_login(settings):
    settings.ALLOW_PRIVATE_MAIL_HOSTS = False
    for login in (imap_login, smtp_login):
        with pytest.raises(ServerRefused, match=re.escape("127.0.0.1 is on a private or reserved network")):
            login(other())


def test_an_office365_mailbox_logs_in_with_its_access_token_on_microsofts_servers(settings, monkeypatch):
    settings.MICROSOFT_IMAP_HOST, settings.MICROSOFT_IMAP_PORT = "outlook.example.test", 993
    settings.MICROSOFT_SMTP_HOST, settings.MICROSOFT_SMTP_PORT = "smtp.example.test", 587

    def access_token_for(mailbox: Mailbox, *, force_refresh: bool = False) -> str:
        return "fresh-token" if force_refresh else "cached-token"

    monkeypatch.setattr(tokens, "access_token_for", access_token_for)
    mailbox = office365()
    assert imap_login(mailbox) == ServerLogin("outlook.example.test", 993, "ssl", "me@contoso.test", "XOAUTH2",
                                              "cached-token")
    assert smtp_login(mailbox, force_refresh=True) == ServerLogin("smtp.example.test", 587, "starttls",
                                                                  "me@contoso.test", "XOAUTH2", "fresh-token")
    assert provider_for(mailbox).renewable and not provider_for(mailbox).servers_typed_by_user
    assert "SMTP.Send" in provider_for(mailbox).refused_advice(mailbox, "smtp")


def test_a_shared_mailbox_opens_as_itself_over_imap_and_sends_as_its_delegate(settings, monkeypatch):
    """Exchange: IMAP takes the shared address with the delegate's token (Full Access); SMTP only
    the token's owner, the delegate (Send As then lets the shared address be the sender)."""
    settings.MICROSOFT_IMAP_HOST, settings.MICROSOFT_SMTP_HOST = "outlook.example.test", "smtp.example.test"
    monkeypatch.setattr(tokens, "access_token_for", lambda mailbox, *, force_refresh=False: "delegate-token")
    mailbox = Mailbox(account_type=Mailbox.AccountType.OFFICE365_SHARED, email_address="support@contoso.test",
                      signed_in_as="dana@contoso.test")
    assert (imap_login(mailbox).username, imap_login(mailbox).secret) == ("support@contoso.test", "delegate-token")
    assert (smtp_login(mailbox).username, smtp_login(mailbox).secret) == ("dana@contoso.test", "delegate-token")
    provider = provider_for(mailbox)
    assert provider.renewable
    assert "Add-MailboxPermission -Identity support@contoso.test -User dana@contoso.test -AccessRights FullAccess" \
        in provider.refused_advice(mailbox, "imap")
    assert "Add-RecipientPermission -Identity support@contoso.test -Trustee dana@contoso.test -AccessRights SendAs" \
        in provider.refused_advice(mailbox, "smtp")
    refused = provider.explain_refusal(mailbox, "imap", "AUTHENTICATE failed.")
    assert refused.startswith("dana@contoso.test has no Full Access on support@contoso.test: ")
    assert "Add-MailboxPermission -Identity support@contoso.test -User dana@contoso.test -AccessRights FullAccess" \
        in refused
