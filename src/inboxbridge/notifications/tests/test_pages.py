"""My Configuration > Notifications (the list, the choices) and Application Email."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.notifications.models import Kind, Notification, Preference
from inboxbridge.sending.email_backend import chosen_address

pytestmark = pytest.mark.django_db


def notify(user, subject="Reconnect your mailbox a@example.test", key="1"):
    return Notification.objects.create(user=user, kind=Kind.MAILBOX_REVOKED, incident_key=key, subject=subject,
                                       body="Microsoft no longer accepts the sign-in.", url="/my/email-configuration/")


def test_the_list_shows_unread_notifications_and_marks_them_read(client, plain_user, admin_user):
    mine = notify(plain_user)
    notify(admin_user, subject="Not yours")
    client.force_login(plain_user)
    page = client.get(reverse("notifications:list")).content.decode()
    assert "New: Reconnect your mailbox a@example.test" in page and "Not yours" not in page
    assert '<span class="badge err" id="unread-notifications" title="Unread notifications">1</span>' in page
    client.post(reverse("notifications:mark-read"), {"notification": mine.pk})
    page = client.get(reverse("notifications:list")).content.decode()
    assert "New:" not in page and 'id="unread-notifications"' not in page


def test_mark_all_read_touches_only_ones_own(client, plain_user, admin_user):
    notify(plain_user, key="1")
    notify(plain_user, key="2")
    theirs = notify(admin_user)
    client.force_login(plain_user)
    client.post(reverse("notifications:mark-read"))
    assert not Notification.objects.filter(user=plain_user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_settings_offer_the_kinds_that_concern_the_user_and_save_them(client, plain_user, admin_user):
    client.force_login(plain_user)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "My mailbox&#x27;s authorization was revoked" in page
    assert "client secret or certificate" not in page and "system mailbox I receive alerts for" not in page
    answer = client.post(reverse("notifications:preferences"), {f"{Kind.SEND_FAILED}-app": "on"}, follow=True)
    assert "Your notification choices were saved." in answer.content.decode()
    saved = {row.kind: (row.by_email, row.in_app) for row in Preference.objects.filter(user=plain_user)}
    assert saved[Kind.SEND_FAILED] == (False, True) and saved[Kind.MAILBOX_REVOKED] == (False, False)
    client.force_login(admin_user)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "client secret or certificate" in page and "system mailbox I receive alerts for" in page


def test_application_email_is_for_administrators(client, plain_user):
    client.force_login(plain_user)
    assert client.get(reverse("notifications:application-email")).status_code == 403
    assert client.post(reverse("notifications:test-email")).status_code == 403


def test_an_administrator_picks_the_mailbox_and_sends_a_test(client, admin_user, settings, mailoutbox):
    settings.APPLICATION_EMAIL_MAILBOX = ""
    mailbox = make_mailbox(None, label="Notices", email_address="Notices@example.test")
    client.force_login(admin_user)
    page = client.get(reverse("notifications:application-email")).content.decode()
    assert "Notices (Notices@example.test, Other)" in page
    client.post(reverse("notifications:application-email"), {"mailbox": "notices@example.test"})
    assert chosen_address() == "notices@example.test"
    answer = client.post(reverse("notifications:test-email"), follow=True).content.decode()
    assert f"A test email was sent to {admin_user.email}." in answer
    assert [sent.to for sent in mailoutbox] == [[admin_user.email]]
    assert client.post(reverse("notifications:application-email"), {"mailbox": "nobody@example.test"}).status_code \
        == 200  # not one of the choices: the form says so
    assert chosen_address() == mailbox.email_address.lower()


def test_the_environment_wins_and_the_page_says_so(client, admin_user, settings):
    settings.APPLICATION_EMAIL_MAILBOX = "desk@example.test"
    settings.EMAIL_BACKEND = "inboxbridge.sending.email_backend.SystemMailboxEmailBackend"
    client.force_login(admin_user)
    page = client.get(reverse("notifications:application-email")).content.decode()
    assert ("INBOXBRIDGE_EMAIL_MAILBOX names desk@example.test, which is not a system mailbox in use."
            in page.replace("&gt;", ">"))
    assert "INBOXBRIDGE_EMAIL_MAILBOX sets the mailbox to <strong>desk@example.test</strong>" in page
    assert '<select id="id_mailbox" name="mailbox" disabled>' in page
    client.post(reverse("notifications:application-email"), {"mailbox": ""})
    assert chosen_address() == "desk@example.test"


def test_a_test_email_that_cannot_be_sent_says_why(client, admin_user, settings):
    settings.EMAIL_BACKEND = "inboxbridge.sending.email_backend.SystemMailboxEmailBackend"
    settings.APPLICATION_EMAIL_MAILBOX = ""
    client.force_login(admin_user)
    answer = client.post(reverse("notifications:test-email"), follow=True).content.decode()
    assert "No mailbox is chosen to send the application&#x27;s email." in answer
