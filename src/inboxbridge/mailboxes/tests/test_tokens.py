"""Access tokens: cached, refreshed once at a time per mailbox, rotated refresh tokens always kept."""

from __future__ import annotations

import threading

import pytest

from inboxbridge.configuration.models import StoredSetting
from inboxbridge.mailboxes.eligibility import sync_refusal
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tokens import MailboxUnavailable, access_token_for
from inboxbridge.microsoft.config import CLIENT_SECRET
from inboxbridge.microsoft.errors import MicrosoftError

pytestmark = pytest.mark.mailserver


def refreshes(identity) -> int:
    return identity.count("token", "refresh_token")


@pytest.mark.django_db
def test_a_fresh_token_comes_from_the_cache_without_asking_microsoft(connect_office365_mailbox, identity):
    mailbox = connect_office365_mailbox()
    before = identity.count("token")
    assert access_token_for(mailbox) == access_token_for(Mailbox.objects.get(pk=mailbox.pk))
    assert identity.count("token") == before


@pytest.mark.django_db
def test_the_rotated_refresh_token_is_stored_so_the_next_refresh_works(connect_office365_mailbox, identity):
    mailbox = connect_office365_mailbox()
    first_cache = Mailbox.objects.get(pk=mailbox.pk).token_cache
    access_token_for(mailbox, force_refresh=True)
    second_cache = Mailbox.objects.get(pk=mailbox.pk).token_cache
    assert second_cache != first_cache
    # The stand-in invalidates a refresh token once used: a second refresh only works with the new one.
    access_token_for(Mailbox.objects.get(pk=mailbox.pk), force_refresh=True)
    assert not Mailbox.objects.get(pk=mailbox.pk).needs_reconnect


@pytest.mark.django_db
def test_changing_the_client_secret_invalidates_cached_access_tokens(connect_office365_mailbox, identity,
                                                                    enabled_microsoft):
    mailbox = connect_office365_mailbox()
    old_token = access_token_for(mailbox)
    identity.register_app(enabled_microsoft.client_id, "rotated-secret")
    StoredSetting.objects.filter(key=CLIENT_SECRET.key).update(secret_value="rotated-secret")
    before = refreshes(identity)
    new_token = access_token_for(Mailbox.objects.get(pk=mailbox.pk))
    assert new_token != old_token
    assert refreshes(identity) == before + 1


@pytest.mark.django_db
def test_a_revoked_refresh_token_switches_sync_off_and_asks_for_reconnect(connect_office365_mailbox, identity):
    mailbox = connect_office365_mailbox()
    identity.revoke_refresh_tokens(mailbox.email_address)
    with pytest.raises(MicrosoftError) as raised:
        access_token_for(mailbox, force_refresh=True)
    assert raised.value.is_grant_revoked
    mailbox.refresh_from_db()
    assert mailbox.needs_reconnect and mailbox.state == Mailbox.State.DISABLED and sync_refusal(mailbox) is not None
    assert "AADSTS" in mailbox.reconnect_reason
    with pytest.raises(MailboxUnavailable, match="Please click Reconnect"):
        access_token_for(mailbox, force_refresh=True)


@pytest.mark.django_db
def test_no_token_while_the_integration_is_disabled(connect_office365_mailbox, admin_user):
    from inboxbridge.microsoft import actions

    mailbox = connect_office365_mailbox()
    actions.disable_email_sync(admin_user)
    with pytest.raises(MailboxUnavailable, match="disabled"):
        access_token_for(mailbox)


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_refresh_an_expired_token_only_once(connect_office365_mailbox, identity):
    identity.access_token_lifetime = 60  # under MSAL's five-minute margin: counts as expired
    mailbox = connect_office365_mailbox()
    identity.access_token_lifetime = 3600
    before = refreshes(identity)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connection

        try:
            results.append(access_token_for(Mailbox.objects.get(pk=mailbox.pk)))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert refreshes(identity) == before + 1
    assert len(set(results)) == 1
    assert not Mailbox.objects.get(pk=mailbox.pk).needs_reconnect
