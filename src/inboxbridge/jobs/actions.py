"""Writes of the jobs app other than mailbox leases (leases.py): heartbeats and periodic jobs.
Each function is one short transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from inboxbridge.jobs.models import PeriodicJob, WorkerHeartbeat


@contextmanager
def soft_transaction() -> Iterator[None]:
    """A transaction of scheduling state only (leases, due times, run log, heartbeats), whose
    loss in a database crash costs nothing but a delayed or repeated sync. On PostgreSQL it
    does not wait for its WAL flush (synchronous_commit off): a commit there otherwise waits
    for the disk, which measured at ~10 ms here and was most of a no-change sync. A later
    ordinary commit flushes it anyway, and it can never be torn or reordered."""
    # Inside someone else's transaction the setting would apply to all of it: leave it alone.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def record_heartbeat(
    loop_id: str, *, role: str, hostname: str, pid: int, backend: str, started_at: datetime, tasks_done: int
) -> None:
    now = timezone.now()
    with soft_transaction():
        updated = WorkerHeartbeat.objects.filter(loop_id=loop_id).update(seen_at=now, tasks_done=tasks_done)
        if not updated:
            WorkerHeartbeat.objects.create(
                loop_id=loop_id, role=role, hostname=hostname, pid=pid, backend=backend,
                started_at=started_at, seen_at=now, tasks_done=tasks_done,
            )


def forget_heartbeat(loop_id: str) -> None:
    """A loop that stops cleanly says so: it is gone, not stale."""
    with soft_transaction():
        WorkerHeartbeat.objects.filter(loop_id=loop_id).delete()


def claim_periodic(name: str, every_seconds: int, now: datetime | None = None) -> bool:
    """True for exactly one of several schedulers once per period: the conditional UPDATE moves
    `next_run_at` forward only if it is still due, so a second scheduler finds nothing to move."""
    now = now or timezone.now()
    with soft_transaction():
        PeriodicJob.objects.get_or_create(name=name, defaults={"next_run_at": now})
        return bool(
            PeriodicJob.objects.filter(name=name, next_run_at__lte=now).update(
                next_run_at=now + timedelta(seconds=every_seconds), last_enqueued_at=now
            )
        )
