"""Background work of the webhooks, and its enqueuing: the scheduler calls `enqueue_if_waiting`
every tick, the sync's runner and the pages that record events call `deliver_on_commit`."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from inboxbridge.events.actions import prune_events
from inboxbridge.webhooks import delivery, queries

logger = logging.getLogger(__name__)

# One task run sends for at most this long, then leaves the rest to the next tick's task.
TASK_BUDGET_SECONDS = 50.0


@task()
def deliver_webhooks() -> int:
    """Fan out new events and send the deliveries that are due; returns the attempts made."""
    return delivery.deliver_due(budget_seconds=TASK_BUDGET_SECONDS)


@task()
def prune_old_events() -> int:
    """Events, and the delivery log with them, are kept EVENT_RETENTION_DAYS."""
    return prune_events(timezone.now() - timedelta(days=settings.EVENT_RETENTION_DAYS))


def _enqueue() -> None:
    try:
        deliver_webhooks.enqueue()
    except Exception:
        # Nothing is lost: the events wait in their table and the scheduler's next tick enqueues.
        logger.exception("Could not enqueue the webhook deliveries; the scheduler's next tick tries again")


def deliver_on_commit() -> None:
    """Deliver what the caller's transaction recorded, once it has committed."""
    transaction.on_commit(_enqueue, robust=True)


def enqueue_if_waiting() -> bool:
    """Enqueue the delivery task when events wait for fan-out or a delivery is due (the scheduler)."""
    if not queries.work_waiting():
        return False
    _enqueue()
    return True
