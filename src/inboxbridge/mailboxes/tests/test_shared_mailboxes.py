"""Shared mailboxes through a delegate, against Dovecot, Postfix and the identity stand-in, which
apply Exchange's rules: a person who holds Full Access signs in as themselves and their token
opens the shared mailbox (IMAP user= the shared address); without Full Access Exchange refuses,
and the connection says so before anything is kept; losing Full Access later is a sync error
that names the cause."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from tests.factories import make_mailbox
from tests.fixtures import sign_in_without_browser

from inboxbridge.mail.tests.helpers import message
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.sync.engine import sync_mailbox

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]

CALLBACK = reverse("microsoft:callback")


def account(mail_settings, identity, name: str) -> dict:
    """A licensed mailbox of its own and a stand-in account."""
    email = f"{name}-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    password = mail_settings.add_user(email)
    identity.add_user(email, password, name=name.title())
    return {"email": email, "password": password}


@pytest.fixture
def delegate(enabled_microsoft, mail_settings, identity, django_user_model):
    """Dana: an account at Microsoft and a user of inboxbridge."""
    dana = account(mail_settings, identity, "dana")
    return {**dana, "user": django_user_model.objects.create_user("dana", dana["email"], "dana-password-1")}


@pytest.fixture
def shared(mail_settings) -> str:
    address = f"support-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    mail_settings.add_shared_mailbox(address)
    return address


def system_mailbox(address: str) -> Mailbox:
    return make_mailbox(None, folders=(), label="Support", email_address=address,
                        account_type=Mailbox.AccountType.OFFICE365_SHARED, password="", imap_host="", smtp_host="")


def connect_as(client, start_url: str, person, identity, data=None) -> str:
    """Press Connect (or Reconnect), sign in at the stand-in as `person`, come back: the page shown."""
    started = client.post(start_url, data or {})
    assert started.status_code == 302, started.content.decode()[:500]
    answer = sign_in_without_browser(started["Location"], person["email"], person["password"], str(identity.ca_file))
    return client.get(CALLBACK, answer, follow=True).content.decode()


def test_an_admin_connects_a_shared_system_mailbox_through_a_delegate_and_it_syncs(
        client, admin_user, delegate, shared, identity, mail_settings):
    identity.grant_full_access(shared, delegate["email"])
    mailbox = system_mailbox(shared)
    mail_settings.deliver(message("Printer on fire"), to=shared)
    client.force_login(admin_user)

    page = connect_as(client, reverse("mailbox-settings:system-mailbox-connect", args=[mailbox.pk]), delegate,
                      identity)
    assert f"Connected Account: {shared} through the sign-in of {delegate['email']}" in page
    assert f'id="signed-in-as">{delegate["email"]}<' in page and "(connected by admin)" in page
    mailbox.refresh_from_db()
    assert (mailbox.signed_in_as, mailbox.connected_by, mailbox.owner) == (delegate["email"], admin_user, None)

    retrieved = client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]),
                            follow=True).content.decode()
    assert "Retrieved" in retrieved
    Folder.objects.filter(mailbox=mailbox, name="INBOX").update(selected=True)
    assert sync_mailbox(mailbox.pk).fetched == 1
    assert mailbox.emails.get().subject == "Printer on fire"
    # Exchange opened the shared mailbox for the delegate's token, with user= the shared address.
    assert any(d.allowed and d.user.lower() == shared.lower() for d in identity.exchange_decisions())

    # An Exchange administrator takes Full Access away: the next sync fails and says why.
    identity.revoke_full_access(shared, delegate["email"])
    result = sync_mailbox(mailbox.pk)
    assert result.error.startswith(f"{delegate['email']} has no Full Access on {shared}: ")
    assert f"Add-MailboxPermission -Identity {shared} -User {delegate['email']} -AccessRights FullAccess" \
        in result.error
    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.ERROR and "has no Full Access" in mailbox.last_error
    listing = client.get(reverse("mailbox-settings:system-mailboxes")).content.decode()
    assert f"{delegate['email']} has no Full Access on {shared}" in listing


def test_without_full_access_the_connection_is_refused_with_the_explanation(
        client, admin_user, delegate, shared, identity):
    mailbox = system_mailbox(shared)
    client.force_login(admin_user)
    page = connect_as(client, reverse("mailbox-settings:system-mailbox-connect", args=[mailbox.pk]), delegate,
                      identity)
    assert f"The mailbox was not connected. {delegate['email']} has no Full Access on {shared}: " in page
    assert (f"Add-MailboxPermission -Identity {shared} -User {delegate['email']} -AccessRights FullAccess"
            in page)
    mailbox.refresh_from_db()
    assert not mailbox.token_cache and not mailbox.signed_in_as and mailbox.connected_by is None


def test_a_user_connects_their_own_mailbox_and_a_shared_one_and_reads_both(
        client, delegate, shared, identity, mail_settings):
    identity.grant_full_access(shared, delegate["email"])
    mail_settings.deliver(message("For Dana alone"), to=delegate["email"])
    mail_settings.deliver(message("For the support team"), to=shared)
    client.force_login(delegate["user"])

    own_page = connect_as(client, reverse("mailboxes:connect"), delegate, identity)
    assert f"Connected Account: {delegate['email']}." in own_page
    shared_page = connect_as(client, reverse("mailboxes:connect-shared"), delegate, identity,
                             {"shared_address": shared})
    assert f"Connected Account: {shared} through the sign-in of {delegate['email']}." in shared_page

    mine = {m.email_address: m for m in Mailbox.objects.filter(owner=delegate["user"], active=True)}
    assert set(mine) == {delegate["email"], shared}
    assert mine[shared].account_type == Mailbox.AccountType.OFFICE365_SHARED
    for mailbox in mine.values():
        client.post(reverse("mailboxes:retrieve-folders", args=[mailbox.pk]))
        Folder.objects.filter(mailbox=mailbox, name="INBOX").update(selected=True)
        assert sync_mailbox(mailbox.pk).fetched == 1

    listing = client.get(reverse("mailboxes:email-configuration")).content.decode()
    assert delegate["email"] in listing and shared in listing
    emails = client.get(reverse("mail:list")).content.decode()
    assert "For Dana alone" in emails and "For the support team" in emails
    assert 'id="mailbox-switcher"' in emails
    only_shared = client.get(reverse("mail:list"), {"mailbox": mine[shared].pk}).content.decode()
    assert "For the support team" in only_shared and "For Dana alone" not in only_shared

    # Signing in again for a shared mailbox already in the list is refused by name.
    again = client.post(reverse("mailboxes:connect-shared"), {"shared_address": shared})
    assert again.status_code == 400 and f"You have already connected {shared}" in again.content.decode()


def test_a_user_without_full_access_is_told_and_nothing_is_kept(client, delegate, shared, identity):
    client.force_login(delegate["user"])
    page = connect_as(client, reverse("mailboxes:connect-shared"), delegate, identity, {"shared_address": shared})
    assert f"{shared} was not connected. {delegate['email']} has no Full Access on {shared}: " in page
    assert not Mailbox.objects.filter(owner=delegate["user"]).exists()


def test_reconnect_with_another_delegate_after_the_first_lost_full_access(
        client, admin_user, delegate, shared, identity, mail_settings):
    erin = account(mail_settings, identity, "erin")
    identity.grant_full_access(shared, delegate["email"])
    mailbox = system_mailbox(shared)
    client.force_login(admin_user)
    connect = reverse("mailbox-settings:system-mailbox-connect", args=[mailbox.pk])
    connect_as(client, connect, delegate, identity)
    client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]))
    Folder.objects.filter(mailbox=mailbox, name="INBOX").update(selected=True)
    identity.revoke_full_access(shared, delegate["email"])
    assert "has no Full Access" in sync_mailbox(mailbox.pk).error

    identity.grant_full_access(shared, erin["email"])
    page = connect_as(client, connect, erin, identity)
    assert f"Connected Account: {shared} through the sign-in of {erin['email']}" in page
    mailbox.refresh_from_db()
    assert mailbox.signed_in_as == erin["email"] and mailbox.state != Mailbox.State.ERROR
    mail_settings.deliver(message("After the handover"), to=shared)
    assert sync_mailbox(mailbox.pk).fetched == 1


def test_reconnecting_an_own_mailbox_as_another_account_is_refused(client, delegate, identity, mail_settings):
    client.force_login(delegate["user"])
    connect_as(client, reverse("mailboxes:connect"), delegate, identity)
    mailbox = Mailbox.objects.get(owner=delegate["user"], active=True)
    stranger = account(mail_settings, identity, "sam")

    page = connect_as(client, reverse("mailboxes:reconnect", args=[mailbox.pk]), stranger, identity)
    assert (f"The mailbox was not connected. Microsoft signed in {stranger['email']}, not {delegate['email']}: "
            f"sign in as {delegate['email']} to reconnect it") in page
    mailbox.refresh_from_db()
    assert mailbox.signed_in_as == delegate["email"]
    assert list(Mailbox.objects.filter(owner=delegate["user"])) == [mailbox]
