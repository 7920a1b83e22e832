"""The scheduler: every few seconds, claim the mailboxes that are due and enqueue one sync task
for each. Any number of schedulers may run (one in every `inboxbridge worker` and in `serve`):
the claim is a conditional UPDATE (leases.claim_due), so each due mailbox is enqueued once."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections, transaction

from inboxbridge.jobs import actions, leases, tasks
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import office365_enabled
from inboxbridge.notifications.tasks import scan_for_notifications
from inboxbridge.sending.tasks import enqueue_due_outgoing_messages
from inboxbridge.webhooks.tasks import enqueue_if_waiting, prune_old_events

logger = logging.getLogger(__name__)

# Claimed per round trip; a tick keeps claiming while rounds come back full.
CLAIM_BATCH = 500


@dataclass(frozen=True)
class TickResult:
    enqueued: int
    housekeeping: bool
    seconds: float


def tick(*, max_mailboxes: int | None = None) -> TickResult:
    """One scheduler pass: claim and enqueue what is due, and housekeeping when its hour came."""
    started = time.perf_counter()
    enabled = office365_enabled()
    enqueued = 0
    while max_mailboxes is None or enqueued < max_mailboxes:
        limit = CLAIM_BATCH if max_mailboxes is None else min(CLAIM_BATCH, max_mailboxes - enqueued)
        claimed = leases.claim_due(limit, office365_enabled=enabled)
        for mailbox_id in claimed:
            # After the claim committed: a backend that runs tasks inline (immediate) must not run
            # a whole sync inside the claim's transaction. Should this process die right here,
            # the "queued" mark expires after SYNC_LEASE_SECONDS and the mailbox is claimed again.
            tasks.sync_mailbox.enqueue(mailbox_id)
        enqueued += len(claimed)
        if len(claimed) < limit:
            break
    # Outbox messages whose retry is due, or whose task was lost with a dead worker.
    enqueue_due_outgoing_messages()
    # Notifications: new incidents, and emails whose task was lost or whose retry is due.
    if actions.claim_periodic("notifications", settings.NOTIFICATIONS_INTERVAL_SECONDS):
        scan_for_notifications.enqueue()
    # Webhooks: events waiting for fan-out, deliveries whose retry is due (or left by a dead worker).
    if actions.claim_periodic("webhooks", settings.SCHEDULER_TICK_SECONDS):
        enqueue_if_waiting()
    if actions.claim_periodic("events-prune", settings.HOUSEKEEPING_INTERVAL_SECONDS):
        prune_old_events.enqueue()
    ran_housekeeping = actions.claim_periodic("housekeeping", settings.HOUSEKEEPING_INTERVAL_SECONDS)
    if ran_housekeeping:
        tasks.housekeeping.enqueue()
    return TickResult(enqueued, ran_housekeeping, time.perf_counter() - started)


def request_sync(mailbox: Mailbox) -> None:
    """"Sync now": make the mailbox due at once and enqueue its sync, unless one is already
    queued (it will do) or running (it comes back at once when it ends)."""

    def enqueue_if_claimed() -> None:
        if leases.request_now(mailbox.pk, office365_enabled=office365_enabled()):
            tasks.sync_mailbox.enqueue(mailbox.pk)

    # Called from views that may be inside a transaction: act once it has committed.
    transaction.on_commit(enqueue_if_claimed)


class SchedulerLoop:
    """Runs tick() every SCHEDULER_TICK_SECONDS until stopped; survives database and queue
    outages (it logs and tries again next tick)."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop_event = stop
        self.ticks = 0

    def run(self) -> None:
        interval = max(settings.SCHEDULER_TICK_SECONDS, 1)
        while not self.stop_event.is_set():
            try:
                close_old_connections()
                result = tick()
                self.ticks += 1
                if result.enqueued:
                    logger.debug("Scheduler: %s mailboxes enqueued in %.3f s", result.enqueued, result.seconds)
            except Exception:  # an outage must not end the loop; next tick retries
                logger.exception("Scheduler tick failed")
            self.stop_event.wait(interval)

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="inboxbridge-scheduler", daemon=True)
        thread.start()
        return thread
