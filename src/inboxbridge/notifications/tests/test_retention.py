"""Old notifications are deleted by the periodic job once their incident is over; one whose
incident goes on stays (it is what keeps the incident told once), and so does one whose email is
still waiting to be sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.mailboxes.actions import require_reconnect
from inboxbridge.notifications.models import Kind, Notification
from inboxbridge.notifications.tests.helpers import scan

pytestmark = pytest.mark.django_db


def age(notification: Notification, days: int) -> None:
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - timedelta(days=days))


def test_an_old_notification_of_an_incident_still_going_on_is_kept_and_not_told_again(
        django_user_model, mailoutbox, settings, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    owner = django_user_model.objects.create_user("uma", "uma@example.test", "uma-password-1")
    mailbox = make_mailbox(owner, account_type="office365")
    require_reconnect(mailbox, "AADSTS50173: The provided grant has expired due to it being revoked.")
    scan(django_capture_on_commit_callbacks)
    [told] = Notification.objects.filter(user=owner, kind=Kind.MAILBOX_REVOKED)
    age(told, 45)

    scan(django_capture_on_commit_callbacks)  # the mailbox still waits for a Reconnect

    assert list(Notification.objects.filter(user=owner)) == [told] and len(mailoutbox) == 1

    # Reconnected: the incident is over, and its 45-day-old notification goes.
    mailbox.needs_reconnect, mailbox.last_success_at = False, timezone.now()
    mailbox.save()
    scan(django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(user=owner).exists() and len(mailoutbox) == 1


def test_only_old_notifications_whose_email_is_not_waiting_are_deleted(django_user_model, settings,
                                                                       django_capture_on_commit_callbacks):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    user = django_user_model.objects.create_user("ivo", "ivo@example.test", "ivo-password-1")

    def made(key: str, days: int, email: str) -> Notification:
        row = Notification.objects.create(user=user, kind=Kind.SEND_FAILED, incident_key=key, subject=key, body="",
                                          email=email, email_due_at=timezone.now() + timedelta(days=1))
        age(row, days)
        return row

    old_sent = made("old-sent", 31, Notification.Email.SENT)
    old_unwanted = made("old-in-app", 31, Notification.Email.NOT_WANTED)
    old_waiting = made("old-waiting", 31, Notification.Email.PENDING)
    recent = made("recent", 29, Notification.Email.SENT)

    scan(django_capture_on_commit_callbacks)

    kept = set(Notification.objects.filter(user=user).values_list("pk", flat=True))
    assert kept == {old_waiting.pk, recent.pk}
    assert old_sent.pk not in kept and old_unwanted.pk not in kept
