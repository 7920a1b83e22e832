"""mailbox.auth_failed and mailbox.reconnected, through what the owner lives: Microsoft revokes the
grant (at the identity stand-in) and the next sync against Dovecot turns the mailbox to Reconnect,
once; signing in again records the reconnection, a first connection does not. A delegate who
leaves stops the shared mailbox they signed in for. The owner's own webhook endpoint receives the
refusal signed. No event carries a token, and none outlives a rolled-back change."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.events.models import EventType
from inboxbridge.events.tests.helpers import assert_no_secret_in_events, mailbox_secrets, recorded
from inboxbridge.jobs.runner import run_sync
from inboxbridge.mailboxes.actions import require_reconnect
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.tests.helpers import select_folders

pytestmark = pytest.mark.django_db(transaction=True)


def connected(connect_office365_mailbox, identity) -> Mailbox:
    """A connected Office 365 mailbox, INBOX selected, whose access token MSAL counts as expired
    (so the next sync asks Microsoft for a new one with the refresh token)."""
    identity.access_token_lifetime = 60  # under MSAL's five-minute margin
    mailbox = connect_office365_mailbox()
    select_folders(mailbox, "INBOX")
    return mailbox


def revoke_and_sync(identity, mailbox: Mailbox) -> Mailbox:
    """Microsoft revokes the grant (the user changed their password, an admin revoked sessions),
    then the worker's sync runs."""
    identity.revoke_refresh_tokens(mailbox.email_address)
    run = run_sync(mailbox.pk, manual=True)
    assert run.ran and run.error, run
    return Mailbox.objects.get(pk=mailbox.pk)


@pytest.mark.mailserver
def test_a_revoked_grant_records_one_auth_failed_with_the_reason(connect_office365_mailbox, identity):
    mailbox = connected(connect_office365_mailbox, identity)
    assert run_sync(mailbox.pk, manual=True).outcome == "ok"
    assert recorded(EventType.MAILBOX_AUTH_FAILED) == []
    secrets = mailbox_secrets(mailbox)

    after = revoke_and_sync(identity, mailbox)

    assert after.needs_reconnect and after.state == Mailbox.State.DISABLED
    assert recorded(EventType.MAILBOX_AUTH_FAILED) == [
        {"mailbox_id": mailbox.pk, "email_address": mailbox.email_address, "reason": after.reconnect_reason}]
    assert "AADSTS50173" in after.reconnect_reason  # Microsoft's own words: what to tell the person
    assert_no_secret_in_events(secrets | mailbox_secrets(after))

    # The mailbox waits for Reconnect: later syncs do not run, and nothing is recorded again.
    assert not run_sync(mailbox.pk, manual=True).ran
    assert len(recorded(EventType.MAILBOX_AUTH_FAILED)) == 1


@pytest.mark.mailserver
def test_signing_in_again_records_reconnected_and_a_first_connection_does_not(connect_office365_mailbox, identity):
    mailbox = connected(connect_office365_mailbox, identity)
    assert recorded(EventType.MAILBOX_RECONNECTED) == []
    assert revoke_and_sync(identity, mailbox).needs_reconnect

    # Reconnect: the owner signs in again as the same account.
    again = connect_office365_mailbox(email=mailbox.email_address, owner=mailbox.owner)

    assert again.pk == mailbox.pk and not again.needs_reconnect
    assert recorded(EventType.MAILBOX_RECONNECTED) == [
        {"mailbox_id": mailbox.pk, "email_address": mailbox.email_address, "signed_in_as": mailbox.email_address}]
    assert_no_secret_in_events(mailbox_secrets(again))
    assert run_sync(mailbox.pk, manual=True).outcome == "ok"  # and it syncs again


@pytest.mark.mailserver
@pytest.mark.usefixtures("_private_allowed")
def test_the_owners_endpoint_receives_the_refusal_signed(connect_office365_mailbox, identity, client, receiver):
    mailbox = connected(connect_office365_mailbox, identity)
    client.force_login(mailbox.owner)  # My Configuration > Webhooks, for their own mailbox
    page = client.post(reverse("webhooks:list"), {"url": receiver.url, "events": ["mailbox.auth_failed"],
                                                  "mailbox": mailbox.pk})
    assert page.status_code == 200, page.content.decode()[:2000]
    secret = page.context["created"].secret

    after = revoke_and_sync(identity, mailbox)  # the runner hands the events to the delivery task

    [delivered] = receiver.requests
    document = delivered.verify(secret)  # the Standard Webhooks library checks the signature
    assert document == {"type": "mailbox.auth_failed", "timestamp": document["timestamp"], "data": {
        "mailbox_id": mailbox.pk, "email_address": mailbox.email_address, "reason": after.reconnect_reason}}
    assert delivered.headers["webhook-id"].startswith("evt_")
    assert_no_secret_in_events(mailbox_secrets(after))
    # The failed run is a mailbox.sync_failed too, which this endpoint did not ask for.
    assert len(recorded(EventType.MAILBOX_SYNC_FAILED)) == 1


def test_a_departed_delegate_stops_the_shared_mailbox_with_an_auth_failed_event():
    delegate = get_user_model().objects.create_user("bob", "bob@example.test", "bob-password-1")
    shared = make_mailbox(None, account_type=Mailbox.AccountType.OFFICE365_SHARED, connected_by=delegate,
                          signed_in_as="bob@contoso.test", email_address="support@contoso.test",
                          password="", token_cache='{"RefreshToken": {}}')

    delegate.is_active = False
    delegate.save()  # an administrator deactivates Bob

    [event] = recorded(EventType.MAILBOX_AUTH_FAILED)
    assert event["mailbox_id"] == shared.pk and event["email_address"] == "support@contoso.test"
    assert "bob@contoso.test" in event["reason"] and "another delegate" in event["reason"]
    assert set(event) == {"mailbox_id", "email_address", "reason"}


def test_a_deactivation_that_rolls_back_records_no_auth_failed():
    delegate = get_user_model().objects.create_user("bob", "bob@example.test", "bob-password-1")
    shared = make_mailbox(None, account_type=Mailbox.AccountType.OFFICE365_SHARED, connected_by=delegate)

    with pytest.raises(RuntimeError), transaction.atomic():
        delegate.is_active = False
        delegate.save()
        assert len(recorded(EventType.MAILBOX_AUTH_FAILED)) == 1  # written in the same transaction
        raise RuntimeError("the page's save fails after the deactivation")

    assert not Mailbox.objects.get(pk=shared.pk).needs_reconnect
    assert recorded(EventType.MAILBOX_AUTH_FAILED) == []


def test_a_mailbox_already_waiting_for_reconnect_records_no_second_auth_failed():
    mailbox = make_mailbox()
    require_reconnect(mailbox, "AADSTS50173: the grant was revoked.")
    require_reconnect(Mailbox.objects.get(pk=mailbox.pk), "AADSTS70000: the grant is invalid.")
    assert [e["reason"] for e in recorded(EventType.MAILBOX_AUTH_FAILED)] == ["AADSTS50173: the grant was revoked."]
