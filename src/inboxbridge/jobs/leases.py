"""Mailbox leases: the one place that writes a mailbox's scheduling fields (next_sync_at,
failure_count, lease_owner, lease_expires_at). Each function is one short transaction.

A mailbox's lease is in one of three states:
- free: lease_expires_at is NULL or in the past (a killed worker's lease simply runs out);
- queued: lease_owner starts with "queued:": a scheduler (or Sync now) enqueued a sync task;
  nobody enqueues another until it expires;
- held: lease_owner is a worker's token: that worker syncs the mailbox and renews the lease
  while it works. Every write of a sync run is conditional on still holding it.
Every decision is a conditional UPDATE, which both SQLite (one writer at a time) and PostgreSQL
(row locks, WHERE re-checked after waiting) make atomic, so two schedulers or two workers can
never both win the same mailbox. All of it is soft state (see actions.soft_transaction).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from inboxbridge.events.actions import record_event
from inboxbridge.events.models import EventType
from inboxbridge.jobs import policy
from inboxbridge.jobs.actions import soft_transaction
from inboxbridge.jobs.models import SyncRun
from inboxbridge.mailboxes.eligibility import eligible_q
from inboxbridge.mailboxes.models import Mailbox


class LeaseLost(BaseException):
    """Raised from the engine's progress callback when another worker owns the mailbox now.

    A BaseException, like KeyboardInterrupt, so that the engine's `except Exception` error
    handling does not turn it into an error recorded on a mailbox that is no longer ours; the
    engine's transactions still roll back on it."""


def _lease_delta() -> timedelta:
    return timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def queued_marker() -> str:
    return f"{policy.QUEUED_PREFIX}{secrets.token_hex(8)}"


def claim_due(limit: int, *, office365_enabled: bool, now: datetime | None = None) -> list[int]:
    """The scheduler's claim: mark up to `limit` due mailboxes "queued" and return their ids.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent schedulers split the due set instead of
    waiting on each other (SQLite ignores it: its transactions are serialized anyway). The UPDATE
    repeats the conditions, so a row another scheduler claimed meanwhile is not taken twice, and
    the unique marker tells which rows this call won."""
    now = now or timezone.now()
    marker = queued_marker()
    eligible = Mailbox.objects.filter(eligible_q(office365_enabled=office365_enabled) & policy.due_q(now))
    with soft_transaction():
        candidates = list(
            eligible.order_by(F("next_sync_at").asc(nulls_first=True), "id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not candidates:
            return []
        eligible.filter(id__in=candidates).update(lease_owner=marker, lease_expires_at=now + _lease_delta())
        return list(Mailbox.objects.filter(id__in=candidates, lease_owner=marker).values_list("id", flat=True))


def request_now(mailbox_id: int, *, office365_enabled: bool) -> bool:
    """Sync now: due at once; True when the caller should enqueue a task (nothing queued or
    running yet). When a sync is running, the changed next_sync_at tells it to come back at once."""
    now = timezone.now()
    with soft_transaction():
        Mailbox.objects.filter(pk=mailbox_id).update(next_sync_at=now)
        return bool(
            Mailbox.objects.filter(pk=mailbox_id)
            .filter(eligible_q(office365_enabled=office365_enabled) & policy.free_lease_q(now))
            .update(lease_owner=queued_marker(), lease_expires_at=now + _lease_delta())
        )


@dataclass
class Lease:
    """A worker's hold on one mailbox for one sync run."""

    mailbox_id: int
    token: str
    worker_id: str
    started_at: datetime
    run_id: int | None
    lost: bool = False
    _renewed: float = field(default_factory=time.monotonic)

    def progress(self) -> None:
        """Called on each progress report of the engine: renews the lease once a third of it
        has passed, and stops the engine (LeaseLost) when the lease was lost."""
        if self.lost:
            raise LeaseLost(self.mailbox_id)
        if time.monotonic() - self._renewed >= settings.SYNC_LEASE_SECONDS / 3 and not renew(self):
            self.lost = True
            raise LeaseLost(self.mailbox_id)


def acquire(mailbox_id: int, worker_id: str, *, office365_enabled: bool, due_only: bool = True) -> Lease | None:
    """Take the mailbox for a sync, or None when it is not ours to sync now (another worker
    holds it, it is not due any more because a twin task already synced it, or it was disabled).
    `due_only=False` is for a sync someone asked for by hand (`inboxbridge sync`)."""
    now = timezone.now()
    token = f"{worker_id[:80]}/{secrets.token_hex(6)}"
    mailbox = Mailbox.objects.filter(pk=mailbox_id)
    if due_only:
        mailbox = mailbox.filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now))
    with soft_transaction():
        taken = (
            mailbox.filter(eligible_q(office365_enabled=office365_enabled) & policy.claimable_by_task_q(now))
            .update(lease_owner=token, lease_expires_at=now + _lease_delta())
        )
        if not taken:
            return None
        # Read the clock again now that the lease is ours: a run starts strictly after the
        # previous holder gave the lease back, which the no-overlap checks rely on.
        started = timezone.now()
        run_id = None
        if settings.SYNC_RUN_RETENTION_HOURS > 0:
            run_id = SyncRun.objects.create(
                mailbox_id=mailbox_id, worker_id=worker_id[:100], lease_token=token, started_at=started
            ).pk
    return Lease(mailbox_id, token, worker_id, started, run_id)


def renew(lease: Lease) -> bool:
    with soft_transaction():
        held = Mailbox.objects.filter(pk=lease.mailbox_id, lease_owner=lease.token).update(
            lease_expires_at=timezone.now() + _lease_delta()
        )
    lease._renewed = time.monotonic()
    return bool(held)


@dataclass(frozen=True)
class RunCounts:
    fetched: int = 0
    updated: int = 0
    deleted: int = 0


def release(lease: Lease, outcome: policy.Outcome, counts: RunCounts) -> bool:
    """Give the mailbox back with its next due time, and close the run record. False when the
    lease had been lost (another worker's schedule is then left alone)."""
    finished = timezone.now()
    # A failure records an event (mailbox.sync_failed) that must survive a crash: a durable commit,
    # which costs nothing that matters on the rare failed run.
    with transaction.atomic() if outcome.failed else soft_transaction():
        # Only a failure needs the count of failures before it (the backoff grows with it).
        before = 0
        if outcome.failed:
            before = Mailbox.objects.filter(pk=lease.mailbox_id).values_list("failure_count", flat=True).first() or 0
        next_at, failures = policy.next_schedule(
            outcome, before, finished, interval=settings.SYNC_INTERVAL_SECONDS, cap=settings.SYNC_MAX_BACKOFF_SECONDS,
        )
        # next_sync_at moved during the run means someone asked for a sync meanwhile (Sync now, a new
        # folder selection): keep their "now" instead of planning a whole interval later.
        asked_meanwhile = Q(next_sync_at__gt=lease.started_at)
        released = Mailbox.objects.filter(pk=lease.mailbox_id, lease_owner=lease.token).update(
            lease_owner="", lease_expires_at=None, failure_count=failures,
            next_sync_at=Case(
                When(asked_meanwhile, then=F("next_sync_at")),
                default=Value(next_at, output_field=models.DateTimeField()),
            ),
        )
        if released:
            _finish_run(lease, finished, outcome.label, outcome.error, counts)
            if outcome.failed:
                # With the failure count it raised, in the same transaction (the webhooks' outbox).
                record_event(EventType.MAILBOX_SYNC_FAILED, lease.mailbox_id,
                             {"error": outcome.error[:500], "failure_count": failures})
        else:
            _finish_run(lease, finished, "lease_lost", "lease lost", counts)
    return bool(released)


def record_lost(lease: Lease, counts: RunCounts) -> None:
    with soft_transaction():
        _finish_run(lease, timezone.now(), "lease_lost", "lease lost", counts)


def _finish_run(lease: Lease, finished: datetime, label: str, error: str, counts: RunCounts) -> None:
    if lease.run_id is None:
        return
    SyncRun.objects.filter(pk=lease.run_id).update(
        finished_at=finished, complete=label == "ok", outcome=label, error=error[:2000],
        fetched=counts.fetched, updated=counts.updated, deleted=counts.deleted,
    )
