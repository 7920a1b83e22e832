"""The body of the sync task: take the mailbox's lease, let the engine work for one time-budgeted
slice, give the lease back with the next due time. Safe to run twice for the same mailbox: the
lease makes the second run a no-op while the first holds it or once the mailbox is not due.

The engine is a collaborator: `run_sync` takes one (`sync=`), else runs the installed one, the real
sync.engine.sync_mailbox unless a test installed a stand-in with `installed_sync`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

from inboxbridge.autoresponse.queries import awaiting_answers
from inboxbridge.autoresponse.tasks import answer_on_commit
from inboxbridge.jobs import leases, runtime
from inboxbridge.jobs.policy import Outcome
from inboxbridge.lib.redact import redact
from inboxbridge.mailboxes.eligibility import Refusal, sync_refusal
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import office365_enabled
from inboxbridge.sync import engine
from inboxbridge.sync.engine import SyncResult
from inboxbridge.webhooks.tasks import deliver_on_commit

Progress = Callable[[int, int], None]

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
    refusal: Refusal | None = None  # why a sync asked for by hand did not run (mailboxes.eligibility)


class MailboxSync(Protocol):
    """The engine's entry point, as run_sync calls it."""

    def __call__(self, mailbox_id: int, *, time_budget: float | None = None,
                 progress: Progress | None = None) -> SyncResult: ...


_installed: list[MailboxSync] = [engine.sync_mailbox]


@contextmanager
def installed_sync(sync: MailboxSync) -> Iterator[MailboxSync]:
    """Every run_sync in this process (worker threads included) runs `sync` while inside."""
    _installed.append(sync)
    try:
        yield sync
    finally:
        _installed.remove(sync)


def run_sync(mailbox_id: int, *, manual: bool = False, time_budget: float | None = None,
             progress: Progress | None = None, sync: MailboxSync | None = None) -> RunSummary:
    """One sync of a mailbox under its lease. The task runs it for due mailboxes with the time
    budget of the settings; `manual=True` (a sync asked for by hand, e.g. `inboxbridge sync`)
    does not wait for the mailbox to be due and uses `time_budget` (None: no limit), and still
    never runs beside another worker's sync. `progress(done, total)` follows the engine's."""
    enabled = office365_enabled()
    # The lease is taken only if the mailbox may sync (the rule's filter, in the same UPDATE); the
    # engine loads the mailbox once and checks it once more with the same rule.
    lease = leases.acquire(mailbox_id, runtime.worker_id(), office365_enabled=enabled, due_only=not manual)
    if lease is None:
        logger.debug("Mailbox %s: not due, synced elsewhere or not to be synced; nothing to do", mailbox_id)
        return RunSummary(mailbox_id, ran=False, refusal=_refusal(mailbox_id, enabled) if manual else None)
    budget = time_budget if manual else float(settings.SYNC_TIME_BUDGET_SECONDS)

    def report(done: int, total: int) -> None:
        lease.progress()  # renews the lease, or stops the engine if another worker took it
        if progress is not None:
            progress(done, total)

    counts = leases.RunCounts()
    result: SyncResult | None = None
    try:
        result = (sync or _installed[-1])(mailbox_id, time_budget=budget, progress=report)
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
    if counts.fetched or counts.updated or counts.deleted or outcome.failed:
        deliver_on_commit()  # the events this run recorded, to the webhooks
    if awaiting_answers(mailbox_id):
        # New mail for the mailbox's autoresponse rules (or mail a lost task left): answer it.
        answer_on_commit(mailbox_id)
    if outcome.failed:
        logger.info("Mailbox %s: sync failed, will retry later: %s", mailbox_id, outcome.error)
    elif counts.fetched or counts.updated or counts.deleted:
        logger.info("Mailbox %s: %s new, %s updated, %s deleted%s", mailbox_id, counts.fetched, counts.updated,
                    counts.deleted, "" if outcome.complete else " (more to do: continuing)")
    return RunSummary(mailbox_id, ran=True, outcome=outcome.label, fetched=counts.fetched, error=outcome.error,
                      result=result)


def _refusal(mailbox_id: int, office365_enabled: bool) -> Refusal | None:
    """Why the lease was refused to a sync asked for by hand, when the rule is the reason (and not
    another worker holding the mailbox)."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    return sync_refusal(mailbox, office365_enabled=office365_enabled) if mailbox is not None else None
