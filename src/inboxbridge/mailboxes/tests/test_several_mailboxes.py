"""A user may connect several mailboxes (their own Office 365 or Other accounts and shared
mailboxes they delegate for): Email Configuration lists them, each with its own page, state,
folders, Reconnect and Disconnect; every URL of a mailbox that is not the user's own answers 404;
one address is connected once per user; and a delegate who leaves stops the shared mailboxes that
used their sign-in until someone reconnects them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.mailboxes import messages
from inboxbridge.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db

PAGE = reverse("mailboxes:email-configuration")
# (method, URL name) of every page and button of one mailbox in Email Configuration.
MAILBOX_URLS = [("get", "mailboxes:mailbox"), ("post", "mailboxes:reconnect"), ("post", "mailboxes:disconnect"),
                ("post", "mailboxes:mailbox-other"), ("post", "mailboxes:retrieve-folders"),
                ("post", "mailboxes:save-folders")]


def shared_mailbox(owner, address: str, delegate: str, **fields) -> Mailbox:
    return make_mailbox(owner, account_type=Mailbox.AccountType.OFFICE365_SHARED, email_address=address,
                        signed_in_as=delegate, password="", imap_host="", smtp_host="", **fields)


def test_the_page_lists_every_mailbox_of_the_user_with_its_own_page(client, plain_user):
    other = make_mailbox(plain_user, email_address="alice@elsewhere.test")
    shared = shared_mailbox(plain_user, "support@example.test", plain_user.email, needs_reconnect=True)
    client.force_login(plain_user)
    listing = client.get(PAGE).content.decode()
    for mailbox in (other, shared):
        assert reverse("mailboxes:mailbox", args=[mailbox.pk]) in listing
    assert "through the sign-in of alice@example.test" in listing and "Needs Reconnect" in listing

    page = client.get(reverse("mailboxes:mailbox", args=[shared.pk])).content.decode()
    assert "Opened with the authorization of" in page and 'id="signed-in-as">alice@example.test<' in page
    assert 'id="reconnect-button"' in page and 'id="sync-status"' in page and 'id="retrieve-folders"' in page
    assert messages.RECONNECT_MESSAGE in page


def test_every_url_of_another_users_mailbox_answers_404(client, plain_user, django_user_model):
    bob = django_user_model.objects.create_user("bob", "bob@example.test", "bob-password-1")
    bobs = [make_mailbox(bob), shared_mailbox(bob, "sales@example.test", "bob@example.test")]
    # A system mailbox the user may read is still not theirs to configure.
    system = make_mailbox(None, label="Support")
    role = Group.objects.create(name="Support team")
    system.authorized_roles.add(role)
    plain_user.groups.add(role)
    make_mailbox(plain_user)
    client.force_login(plain_user)
    for mailbox in (*bobs, system):
        for method, name in MAILBOX_URLS:
            url = reverse(name, args=[mailbox.pk])
            response = client.get(url) if method == "get" else client.post(url, {"mail": "delete"})
            assert response.status_code == 404, (name, mailbox)
        # Sync now of the status card takes the id too, and only of one's own mailboxes.
        refused = client.post(reverse("jobs:sync-now"), {"mailbox": mailbox.pk}, follow=True).content.decode()
        assert "This mailbox cannot be synchronized now." in refused
    assert Mailbox.objects.filter(pk__in=[m.pk for m in (*bobs, system)], active=True).count() == 3


def test_disconnecting_one_mailbox_leaves_the_others(client, plain_user):
    first, second = make_mailbox(plain_user), shared_mailbox(plain_user, "support@example.test", plain_user.email)
    store(second, message("Kept in the shared mailbox"))
    client.force_login(plain_user)
    page = client.post(reverse("mailboxes:disconnect", args=[first.pk]), {"mail": "keep"}, follow=True)
    assert f"{first.email_address} is disconnected." in page.content.decode()
    assert list(Mailbox.objects.filter(owner=plain_user, active=True)) == [second]
    assert "Kept in the shared mailbox" in client.get(reverse("mail:list")).content.decode()


def test_the_same_address_is_connected_once(client, plain_user, enabled_microsoft):
    make_mailbox(plain_user, email_address="me@example.test")
    shared_mailbox(plain_user, "support@example.test", plain_user.email)
    client.force_login(plain_user)
    # A shared mailbox already in the list: refused before anyone is sent to Microsoft.
    refused = client.post(reverse("mailboxes:connect-shared"), {"shared_address": "Support@example.test"})
    assert refused.status_code == 400
    assert "You have already connected Support@example.test: it is in your list of mailboxes." in \
        refused.content.decode()
    # An Other account with an address in the list: refused before its servers are contacted.
    form = {"email_address": "me@example.test", "imap_host": "imap.example.org", "imap_port": 993, "imap_ssl": "on",
            "smtp_host": "smtp.example.org", "smtp_port": 587, "smtp_security": "starttls",
            "username": "me", "password": "pw"}
    refused = client.post(reverse("mailboxes:save-other"), form)
    assert refused.status_code == 400
    assert "You have already connected me@example.test" in refused.content.decode()
    assert Mailbox.objects.filter(owner=plain_user).count() == 2


def test_a_shared_mailbox_needs_a_reconnect_when_its_delegate_is_deactivated(client, admin_user, django_user_model):
    dana = django_user_model.objects.create_user("dana", "dana@example.test", "dana-password-1", is_staff=True)
    system = shared_mailbox(None, "support@example.test", "dana@example.test", label="Support", connected_by=dana)
    own = shared_mailbox(dana, "sales@example.test", "dana@example.test", connected_by=dana)
    untouched = shared_mailbox(None, "billing@example.test", "admin@example.test", label="Billing",
                               connected_by=admin_user)

    dana.is_active = False
    dana.save()

    for mailbox in (system, own):
        mailbox.refresh_from_db()
        assert mailbox.needs_reconnect and mailbox.state == Mailbox.State.DISABLED
        assert mailbox.reconnect_reason == messages.delegate_departed("dana", "dana@example.test")
    untouched.refresh_from_db()
    assert not untouched.needs_reconnect
    # The administrators are told, with the way out.
    client.force_login(admin_user)
    listing = client.get(reverse("mailbox-settings:system-mailboxes")).content.decode()
    assert "Needs reconnect" in listing and "Reconnect with another delegate" in listing
    page = client.get(reverse("mailbox-settings:system-mailbox", args=[system.pk])).content.decode()
    assert 'id="reconnect-banner"' in page and 'id="connect-button">Reconnect<' in page


def test_a_shared_mailbox_needs_a_reconnect_when_its_delegate_is_deleted(admin_user, django_user_model):
    dana = django_user_model.objects.create_user("dana", "dana@example.test", "dana-password-1", is_staff=True)
    system = shared_mailbox(None, "support@example.test", "dana@example.test", label="Support", connected_by=dana)
    dana.delete()
    system.refresh_from_db()
    assert system.needs_reconnect and system.connected_by is None
    assert "given by dana, who was deactivated or removed" in system.reconnect_reason
