"""Pure scheduling decisions: when a mailbox is due, and when again after a sync (which mailboxes
may sync at all is the rule of mailboxes.eligibility). No ORM writes and no clock of their own, so
they are tested exhaustively."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

# Lease owners that mean "a sync task is queued for this mailbox", as opposed to a worker's token.
QUEUED_PREFIX = "queued:"

# What the IMAP door (mailserver.imap) puts in the message of a throttling answer, and Microsoft's wording.
_THROTTLE_WORDS = ("throttl", "[limit]", "too many", "try again", "server busy", "[unavailable]")
MAX_RETRY_AFTER = 24 * 3600
_RETRY_AFTER = re.compile(r"retry[- ]after[:\s]+(\d+)", re.IGNORECASE)


def due_q(now: datetime) -> Q:
    """Due (a mailbox nobody has planned yet is due at once) and not leased by a live task."""
    return (Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now)) & free_lease_q(now)


def free_lease_q(now: datetime) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)


def claimable_by_task_q(now: datetime) -> Q:
    """A task may start syncing when the lease is free, expired, or only says "queued" (the
    scheduler's mark that this very task, or a twin, is on its way)."""
    return free_lease_q(now) | Q(lease_owner__startswith=QUEUED_PREFIX)


@dataclass(frozen=True)
class Outcome:
    """What a sync attempt came to, as far as scheduling cares."""

    complete: bool
    error: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def label(self) -> str:
        if self.failed:
            return "error"
        return "ok" if self.complete else "partial"


def is_throttled(error: str) -> bool:
    lowered = error.lower()
    return any(word in lowered for word in _THROTTLE_WORDS)


def retry_after(error: str) -> int | None:
    """A server's explicit "retry after N seconds", when the error carries one."""
    match = _RETRY_AFTER.search(error)
    return int(match.group(1)) if match else None


def backoff_seconds(failures: int, interval: int, cap: int) -> int:
    """interval, 2x, 4x, ... up to cap, for the 1st, 2nd, 3rd... consecutive failure."""
    if failures <= 0:
        return interval
    return int(min(cap, interval * 2 ** min(failures - 1, 30)))


def next_schedule(
    outcome: Outcome, failures_before: int, now: datetime, *, interval: int, cap: int,
    jitter: float | None = None,
) -> tuple[datetime, int]:
    """(next_sync_at, failure_count) after a sync.

    - complete: due again one interval later; failures reset.
    - incomplete (time budget ran out, more to do): due at once, so the rest follows right after
      the mailboxes already queued: a huge first sync is done in slices without starving others.
    - failed: exponential backoff up to the cap; a throttled server gets at least what it asked
      for (Retry-After, even beyond the cap) and never less than twice the interval.
    Failure delays get up to 10 % jitter so mailboxes that failed together (a server outage) do
    not all retry in the same second.
    """
    if not outcome.failed:
        return (now + timedelta(seconds=interval) if outcome.complete else now), 0
    failures = failures_before + 1
    delay = backoff_seconds(failures, interval, cap)
    if is_throttled(outcome.error):
        # The server's own figure wins even over the cap (it said so), within reason.
        delay = max(delay, min(cap, 2 * interval), min(MAX_RETRY_AFTER, retry_after(outcome.error) or 0))
    spread = random.uniform(0, 0.1) if jitter is None else jitter
    return now + timedelta(seconds=delay * (1 + spread)), failures
