"""Each kind of incident is told once to the right people, as they chose (Django's test mail
backend stands in for the system mailbox; test_notifications_mail_server.py sends for real)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.mailboxes.actions import require_reconnect
from inboxbridge.microsoft import actions as microsoft_actions
from inboxbridge.microsoft import certificates
from inboxbridge.notifications import actions
from inboxbridge.notifications.models import Kind, Notification
from inboxbridge.notifications.tests.helpers import scan
from inboxbridge.sending.email_backend import BACKEND_PATH
from inboxbridge.sending.models import OutgoingMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("olga", "olga@example.test", "olga-password-1")


def revoked_mailbox(owner):
    mailbox = make_mailbox(owner, account_type="office365")
    require_reconnect(mailbox, "AADSTS50173: The provided grant has expired due to it being revoked.")
    return mailbox


def test_a_revoked_mailbox_is_told_once_by_email_and_in_the_app(owner, mailoutbox, django_capture_on_commit_callbacks):
    mailbox = revoked_mailbox(owner)
    for _ in range(3):
        scan(django_capture_on_commit_callbacks)
    [sent] = mailoutbox
    assert sent.to == ["olga@example.test"] and sent.subject == f"Reconnect your mailbox {mailbox.email_address}"
    assert "AADSTS50173" in sent.body and "click Reconnect" in sent.body
    assert f"https://inboxbridge.example.test/my/email-configuration/{mailbox.pk}/" in sent.body
    assert "My Configuration > Notifications: https://inboxbridge.example.test/my/notifications/settings" in sent.body
    # Reconnected and synced, then revoked again: a new incident.
    mailbox.needs_reconnect, mailbox.last_success_at = False, timezone.now()
    mailbox.save()
    require_reconnect(mailbox, "AADSTS50173: revoked again.")
    scan(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2


def test_switching_the_kind_off_produces_none(owner, mailoutbox, django_capture_on_commit_callbacks):
    actions.save_preferences(owner, {Kind.MAILBOX_REVOKED: (False, False)})
    revoked_mailbox(owner)
    scan(django_capture_on_commit_callbacks)
    assert mailoutbox == [] and not Notification.objects.filter(user=owner).exists()


def test_in_the_app_only_sends_no_email(owner, mailoutbox, django_capture_on_commit_callbacks):
    actions.save_preferences(owner, {Kind.MAILBOX_REVOKED: (False, True)})
    revoked_mailbox(owner)
    scan(django_capture_on_commit_callbacks)
    assert mailoutbox == []
    assert Notification.objects.get(user=owner).email == Notification.Email.NOT_WANTED


def test_a_message_that_could_not_be_sent_is_told_to_its_author(owner, mailoutbox,
                                                                django_capture_on_commit_callbacks):
    mailbox = make_mailbox(owner)
    OutgoingMessage.objects.create(
        mailbox=mailbox, author=owner, subject="Contract draft", message_id="a@example.test", mime=b"x",
        state=OutgoingMessage.State.FAILED, last_attempt_at=timezone.now(),
        last_error="The server refused the message: 552 message too big.")
    scan(django_capture_on_commit_callbacks)
    scan(django_capture_on_commit_callbacks)
    [sent] = mailoutbox
    assert sent.to == [owner.email] and sent.subject == "Your message “Contract draft” could not be sent"
    assert "552 message too big" in sent.body and "https://inboxbridge.example.test/mail/outbox/" in sent.body


def test_a_mailbox_failing_longer_than_the_setting_is_told(owner, mailoutbox, settings,
                                                           django_capture_on_commit_callbacks):
    settings.NOTIFY_SYNC_FAILING_HOURS = 12
    failing = make_mailbox(owner, failure_count=4, last_error="Connection refused",
                           last_success_at=timezone.now() - timedelta(hours=13))
    make_mailbox(owner, email_address="fresh@example.test", failure_count=2,
                 last_success_at=timezone.now() - timedelta(hours=2))
    scan(django_capture_on_commit_callbacks)
    [sent] = mailoutbox
    assert sent.subject.startswith(f"The sync of {failing.email_address} has been failing since")
    assert "Connection refused" in sent.body


def test_an_expiring_certificate_is_told_to_each_administrator_once(
        admin_user, owner, django_user_model, mailoutbox, django_capture_on_commit_callbacks):
    other_admin = django_user_model.objects.create_user("root2", "root2@example.test", "pw-root-2", is_staff=True)
    credential = certificates.generate("inboxbridge tests", 10)
    microsoft_actions.save_certificate(admin_user, credential, how="generated")
    scan(django_capture_on_commit_callbacks)
    scan(django_capture_on_commit_callbacks)
    assert sorted(sent.to[0] for sent in mailoutbox) == sorted([admin_user.email, other_admin.email])
    assert all("certificate expires on" in sent.subject for sent in mailoutbox)
    assert not Notification.objects.filter(user=owner).exists()


def test_an_alerting_system_mailbox_is_told_to_its_alert_recipients(
        admin_user, owner, django_user_model, mailoutbox, settings, django_capture_on_commit_callbacks):
    settings.MAILBOX_ALERT_AFTER_FAILURES = 3
    agent = django_user_model.objects.create_user("agent", "agent@example.test", "pw-agent-1")
    role = Group.objects.create(name="Support")
    role.permissions.add(Permission.objects.get(codename="receive_mailbox_alerts"))
    agent.groups.add(role)
    mailbox = make_mailbox(None, label="Help Desk", failure_count=3, last_error="Login timed out")
    mailbox.authorized_roles.add(role)
    mailbox.authorized_users.add(owner)  # may read it, but does not receive alerts
    for _ in range(2):
        scan(django_capture_on_commit_callbacks)
    assert sorted(sent.to[0] for sent in mailoutbox) == sorted([admin_user.email, agent.email])
    by_address = {sent.to[0]: sent for sent in mailoutbox}
    assert "Login timed out" in by_address[agent.email].body
    assert f"/system-mailboxes/{mailbox.pk}" in by_address[admin_user.email].body


def test_no_email_address_gives_the_email_up_and_keeps_it_in_the_app(owner, mailoutbox,
                                                                      django_capture_on_commit_callbacks):
    revoked_mailbox(owner)
    owner.email = ""
    owner.save()
    scan(django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=owner)
    assert mailoutbox == [] and notification.in_app
    assert (notification.email, notification.email_error) == (Notification.Email.FAILED,
                                                               "The account has no email address.")


def test_a_failed_email_is_retried_by_the_job_and_sent_once(owner, settings, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = BACKEND_PATH  # with no mailbox chosen: refused
    settings.APPLICATION_EMAIL_MAILBOX = ""
    revoked_mailbox(owner)
    scan(django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=owner)
    assert notification.email == Notification.Email.PENDING and notification.email_attempts == 1
    assert "No mailbox is chosen to send the application's email" in notification.email_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    scan(django_capture_on_commit_callbacks)
    assert mailoutbox == []  # not due yet: the retry waits
    Notification.objects.filter(pk=notification.pk).update(email_due_at=timezone.now())
    scan(django_capture_on_commit_callbacks)
    scan(django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.email, notification.email_attempts, notification.email_error) == (
        Notification.Email.SENT, 2, "")


def test_an_email_whose_person_left_meanwhile_is_given_up(owner, settings, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = BACKEND_PATH  # refused the first time: no mailbox chosen
    settings.APPLICATION_EMAIL_MAILBOX = ""
    revoked_mailbox(owner)
    scan(django_capture_on_commit_callbacks)
    owner.is_active = False
    owner.save()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Notification.objects.filter(user=owner).update(email_due_at=timezone.now())
    scan(django_capture_on_commit_callbacks)
    notification = Notification.objects.get(user=owner)
    assert mailoutbox == [] and notification.email == Notification.Email.FAILED
    assert notification.email_error == "The account is deactivated or has no email address."
