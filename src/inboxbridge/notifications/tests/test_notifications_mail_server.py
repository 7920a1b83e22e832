"""A user's mailbox whose authorization Microsoft revoked produces exactly one notification email,
sent by the email backend through an Office 365 system mailbox over XOAUTH2 via Postfix and read
over IMAP in the user's own mailbox, however often the job runs and a worker retries."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from inboxbridge.jobs.runner import run_sync
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.notifications.models import Kind, Notification
from inboxbridge.notifications.tasks import send_notification_email
from inboxbridge.notifications.tests.helpers import postfix_saw, scan
from inboxbridge.sending.tests.helpers import plant_access_token, wait_for_messages

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


@pytest.fixture
def person(mail_settings, django_user_model):
    """A user whose email address is a mailbox of the stack (where their notifications arrive)."""
    address = f"pat-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    mail_settings.add_user(address)
    return django_user_model.objects.create_user(f"pat-{uuid.uuid4().hex[:4]}", address, "pat-password-1")


def test_a_revoked_mailbox_produces_exactly_one_notification_email(
        office365_sender, connect_office365_mailbox, person, identity, enabled_microsoft, mail_settings, client,
        django_capture_on_commit_callbacks):
    mailbox = connect_office365_mailbox(owner=person)
    # Microsoft revokes the grant; the next sync finds its token expired and the refresh refused.
    plant_access_token(mailbox, identity.issue_access_token(mailbox.email_address, enabled_microsoft.client_id,
                                                            lifetime=-600))
    identity.revoke_refresh_tokens(mailbox.email_address)
    run_sync(mailbox.pk, manual=True)
    assert Mailbox.objects.get(pk=mailbox.pk).needs_reconnect

    for _ in range(3):  # the periodic job finds the same incident every time
        scan(django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=person)
    assert send_notification_email.call(notification.pk) == "skipped"  # a worker retrying the task

    [(received, _flags)] = wait_for_messages(mail_settings, person.email)
    assert received["Subject"] == f"Reconnect your mailbox {mailbox.email_address}"
    assert received["From"].addresses[0].addr_spec == office365_sender.email_address
    assert received["Auto-Submitted"] == "auto-generated"
    text = received.get_content()
    assert "Microsoft no longer accepts the sign-in" in text and "AADSTS" in text
    assert f"https://inboxbridge.example.test{reverse('mailboxes:mailbox', args=[mailbox.pk])}" in text
    assert postfix_saw(mail_settings, "XOAUTH2", office365_sender.email_address)
    notification.refresh_from_db()
    # One SMTP submission: every send is claimed first, and the claim counts.
    assert (notification.email, notification.email_attempts) == (Notification.Email.SENT, 1)
    assert notification.kind == Kind.MAILBOX_REVOKED

    client.force_login(person)
    page = client.get(reverse("notifications:list")).content.decode()
    assert f"Reconnect your mailbox {mailbox.email_address}" in page
    assert 'id="unread-notifications"' in page
