"""Background work of the notifications app (Django's Tasks API, see inboxbridge.jobs.tasks).

The scheduler enqueues `scan_for_notifications` every NOTIFICATIONS_INTERVAL_SECONDS (jobs/
scheduler.py). A scan records the incidents it finds (one transaction; a Notification per person,
kind and incident, once), then hands each new email to `send_notification_email` on commit, and
hands out again the emails whose task was lost or whose retry is due. Delivery is at least once;
the claim in `actions.claim_email` keeps an email that was sent from going out again, however
often the scan or a task runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from inboxbridge.notifications import actions, mailer
from inboxbridge.notifications.incidents import current_incidents

logger = logging.getLogger(__name__)


@task()
def scan_for_notifications() -> dict[str, int]:
    """Record the incidents there are now, hand out the emails that are due, and delete old
    notifications of incidents that are over."""
    incidents = list(current_incidents())
    created = actions.record_incidents(incidents)
    for notification_id in created:
        send_on_commit(notification_id)
    again = actions.due_emails()
    for notification_id in again:
        _enqueue(notification_id)
    pruned = actions.prune_notifications(timezone.now() - timedelta(days=settings.NOTIFICATION_RETENTION_DAYS),
                                         incidents)
    return {"created": len(created), "handed_out_again": len(again), "pruned": pruned}


@task()
def send_notification_email(notification_id: int) -> str:
    """One attempt at a notification's email: sent / retry / failed / skipped."""
    return mailer.send_notification(notification_id).outcome


def send_on_commit(notification_id: int) -> None:
    """robust: a queue outage must not undo the recorded notification; the scan hands it out later."""
    transaction.on_commit(partial(_enqueue, notification_id), robust=True)


def _enqueue(notification_id: int) -> None:
    try:
        send_notification_email.enqueue(notification_id)
    except Exception:
        logger.exception("Could not enqueue the email of notification %s; the next scan hands it out", notification_id)
