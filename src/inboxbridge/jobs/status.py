"""What people see about a mailbox's sync (settings page, My Emails, admin list), derived from
its row: the lease says whether a sync is running fleet-wide right now, the engine's fields say
how the last one went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inboxbridge.jobs.policy import QUEUED_PREFIX
from inboxbridge.mailboxes.eligibility import Refusal, eligible_q, sync_refusal
from inboxbridge.mailboxes.models import Mailbox


@dataclass(frozen=True)
class SyncStatus:
    key: str  # syncing | idle | error | disabled | waiting
    label: str
    reason: str = ""

    @property
    def can_sync_now(self) -> bool:
        return self.key != "disabled"


def sync_status(mailbox: Mailbox, *, office365_enabled: bool, now: datetime | None = None) -> SyncStatus:
    now = now or timezone.now()
    refusal = sync_refusal(mailbox, office365_enabled=office365_enabled)
    if refusal is not None:
        reason = refusal.text
        if refusal is Refusal.NEEDS_RECONNECT and mailbox.reconnect_reason:
            reason = f"{reason} ({mailbox.reconnect_reason.strip().rstrip('.')})"
        return SyncStatus("disabled", "Disabled", reason)
    held = (
        mailbox.lease_expires_at is not None and mailbox.lease_expires_at > now
        and not mailbox.lease_owner.startswith(QUEUED_PREFIX) and bool(mailbox.lease_owner)
    )
    if held:
        return SyncStatus("syncing", "Syncing")
    if mailbox.state == Mailbox.State.ERROR or (mailbox.failure_count and mailbox.last_error):
        retry = ""
        if mailbox.next_sync_at and mailbox.next_sync_at > now:
            retry = f" Next try in {_humanize(mailbox.next_sync_at - now)}."
        return SyncStatus("error", "Error", (mailbox.last_error or "The last sync failed.") + retry)
    if mailbox.last_success_at is None or mailbox.backlog:
        what = "Waiting for the first sync" if mailbox.last_success_at is None else "More mail to fetch"
        return SyncStatus("waiting", what)
    return SyncStatus("idle", "Up to date")


def attention_q(office365_enabled: bool, now: datetime | None = None) -> Q:
    """Mailboxes an administrator should look at: failing, waiting for their owner, or overdue
    (enabled but not synced for two intervals: workers down or overloaded, or a stuck lease)."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=2 * settings.SYNC_INTERVAL_SECONDS + settings.SCHEDULER_TICK_SECONDS)
    enabled = eligible_q(office365_enabled=office365_enabled)
    return (
        Q(active=True, needs_reconnect=True)
        | (enabled & (Q(state=Mailbox.State.ERROR) | Q(failure_count__gt=0)))
        | (enabled & Q(next_sync_at__lt=overdue))
    )


def _humanize(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 90:
        return f"{max(seconds, 1)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{round(seconds / 3600)} h"
