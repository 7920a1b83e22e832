"""Recording events: called by the domain INSIDE the transaction of the change that causes them,
so an event exists exactly when its change was committed (nothing lost, nothing invented).

Recorded always, even when no webhook endpoint exists: a skip would need a lookup per change (or a
cache that could be stale while an endpoint is being added), and an insert into an append-only
table costs about as much (docs/benchmarks.md measures it on the sync). The webhooks' fan-out
marks them done and the housekeeping prunes them after EVENT_RETENTION_DAYS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from inboxbridge.events.models import Event, EventType

BULK_SIZE = 1000


def record_event(type: EventType | str, mailbox_id: int | None, payload: Mapping[str, Any]) -> Event:
    """One event; call inside the transaction of the change it describes."""
    return Event.objects.create(type=str(type), mailbox_id=mailbox_id, payload=dict(payload))


def record_events(type: EventType | str, rows: Iterable[tuple[int | None, Mapping[str, Any]]]) -> int:
    """Events of one type, (mailbox_id, payload) each, in a few statements (the sync's batches)."""
    kind = str(type)
    events = [Event(type=kind, mailbox_id=mailbox_id, payload=dict(payload)) for mailbox_id, payload in rows]
    if events:
        Event.objects.bulk_create(events, batch_size=BULK_SIZE)
    return len(events)


def mark_fanned_out(event_ids: list[int]) -> None:
    for start in range(0, len(event_ids), 500):
        Event.objects.filter(pk__in=event_ids[start : start + 500]).update(fanned_out=True)


def prune_events(older_than: datetime, *, batch: int = 1000) -> int:
    """Delete events (and what refers to them, the delivery log) recorded before `older_than`, a
    batch per transaction so the sync never waits long for the write lock."""
    deleted = 0
    while True:
        with transaction.atomic():
            old = Event.objects.filter(created_at__lt=older_than).order_by("id")
            ids = list(old.values_list("id", flat=True)[:batch])
            if not ids:
                return deleted
            Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
