"""The body of the sync task: take the mailbox's lease, let the engine work for one time-budgeted
slice, give the lease back with the next due time. Safe to run twice for the same mailbox: the
lease makes the second run a no-op while the first holds it or once the mailbox is not due."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from inboxbridge.jobs import leases, runtime
from inboxbridge.jobs.policy import Outcome
from inboxbridge.lib.redact import redact

if TYPE_CHECKING:
    from inboxbridge.sync.engine import SyncResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """What one task run did, for logs and tests."""

    mailbox_id: int
    ran: bool
    outcome: str = "skipped"  # skipped | ok | partial | error | lease_lost
    fetched: int = 0
    error: str = ""
    result: SyncResult | None = None  # the engine's own account, when it ran to the end


def office365_enabled() -> bool:
    from inboxbridge.microsoft.config import load_config

    return load_config().email_sync_enabled


def run_sync(mailbox_id: int, *, manual: bool = False, time_budget: float | None = None,
             progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """One sync of a mailbox under its lease. The task runs it for due mailboxes with the time
    budget of the settings; `manual=True` (a sync asked for by hand, e.g. `inboxbridge sync`)
    does not wait for the mailbox to be due and uses `time_budget` (None: no limit), and still
    never runs beside another worker's sync. `progress(done, total)` follows the engine's."""
    from inboxbridge.sync import engine

    lease = leases.acquire(mailbox_id, runtime.worker_id(), office365_enabled=office365_enabled(),
                           due_only=not manual)
    if lease is None:
        logger.debug("Mailbox %s: not due or synced elsewhere; nothing to do", mailbox_id)
        return RunSummary(mailbox_id, ran=False)
    budget = time_budget if manual else float(settings.SYNC_TIME_BUDGET_SECONDS)

    def report(done: int, total: int) -> None:
        lease.progress()  # renews the lease, or stops the engine if another worker took it
        if progress is not None:
            progress(done, total)

    counts = leases.RunCounts()
    result: SyncResult | None = None
    try:
        result = engine.sync_mailbox(mailbox_id, time_budget=budget, progress=report)
    except leases.LeaseLost:
        lease.lost = True
    except Exception as error:  # any engine failure is a failed attempt: back off, retry
        # The engine records expected failures on the mailbox and returns them; an exception here
        # is a bug or an outage, so the traceback is worth a log line (redacted by the logging filter).
        logger.exception("Mailbox %s: sync failed", mailbox_id)
        outcome = Outcome(complete=False, error=redact(f"{error.__class__.__name__}: {error}")[:500])
    else:
        counts = leases.RunCounts(result.fetched, result.updated, result.deleted)
        outcome = Outcome(complete=bool(result.complete), error=result.error or "")
    if lease.lost:
        leases.record_lost(lease, counts)
        logger.warning("Mailbox %s: lease lost mid-sync; another worker carries on", mailbox_id)
        return RunSummary(mailbox_id, ran=True, outcome="lease_lost", fetched=counts.fetched)
    if not leases.release(lease, outcome, counts):
        logger.warning("Mailbox %s: lease expired before the sync ended", mailbox_id)
        return RunSummary(mailbox_id, ran=True, outcome="lease_lost", fetched=counts.fetched)
    if outcome.failed:
        logger.info("Mailbox %s: sync failed, will retry later: %s", mailbox_id, outcome.error)
    elif counts.fetched or counts.updated or counts.deleted:
        logger.info("Mailbox %s: %s new, %s updated, %s deleted%s", mailbox_id, counts.fetched, counts.updated,
                    counts.deleted, "" if outcome.complete else " (more to do: continuing)")
    return RunSummary(mailbox_id, ran=True, outcome=outcome.label, fetched=counts.fetched, error=outcome.error,
                      result=result)
