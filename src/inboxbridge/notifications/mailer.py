"""Sending one notification's email through Django's mail (by default the system mailbox backend,
sending/email_backend.py): claim it, send it, record the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse

from inboxbridge.notifications import actions
from inboxbridge.notifications.models import Kind, Notification
from inboxbridge.sending.email_backend import ApplicationEmailError

logger = logging.getLogger(__name__)

SENDER_NAME = "inboxbridge"
PREFERENCES = "My Configuration > Notifications"


@dataclass(frozen=True)
class Attempt:
    outcome: str  # sent / retry / failed / skipped, for the task result
    again_at: datetime | None = None


def send_notification(notification_id: int) -> Attempt:
    notification = actions.claim_email(notification_id)
    if notification is None:
        return Attempt("skipped")  # sent already, given up, or another worker has it
    if not notification.user.is_active or not notification.user.email:
        actions.record_email_failure(notification, "The account is deactivated or has no email address.",
                                     give_up=True)
        return Attempt("failed")
    try:
        sent = get_connection(fail_silently=False).send_messages([email_of(notification)])
    except ApplicationEmailError as exc:
        return _failed(notification, str(exc))
    except Exception as exc:
        # Another Django backend (its own relay) or a bug: kept and tried again like a refusal.
        logger.exception("Sending notification %s failed unexpectedly", notification_id)
        return _failed(notification, f"Sending failed: {type(exc).__name__}: {exc}")
    if not sent:
        return _failed(notification, "The email backend sent nothing.")
    actions.record_email_sent(notification)
    logger.info("Notification %s emailed to user %s", notification.pk, notification.user_id)
    return Attempt("sent")


def _failed(notification: Notification, error: str) -> Attempt:
    again = actions.record_email_failure(notification, error)
    logger.warning("Notification %s was not emailed (attempt %s): %s", notification.pk,
                   notification.email_attempts, error)
    return Attempt("retry" if again else "failed", again)


def absolute(path: str) -> str:
    """A link for an email: only with INBOXBRIDGE_BASE_URL (there is no request to take the host from)."""
    return settings.BASE_URL + path if settings.BASE_URL and path else ""


def email_of(notification: Notification) -> EmailMessage:
    link = absolute(notification.url)
    preferences = absolute(reverse("notifications:preferences"))
    why = f"You get this email because \"{Kind(notification.kind).label}\" is switched on in {PREFERENCES}"
    lines = [
        f"Hello {notification.user.get_username()},", "",
        notification.body, "",
        *([f"Open it: {link}", ""] if link else []),
        "-- ",
        f"{why}: {preferences}" if preferences else f"{why}.",
    ]
    body = "\n".join(lines) + "\n"
    sender = formataddr((SENDER_NAME, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    # Auto-Submitted (RFC 3834): autoresponders do not answer a notification.
    return EmailMessage(subject=notification.subject, body=body, from_email=sender, to=[notification.user.email],
                        headers={"Auto-Submitted": "auto-generated"})
