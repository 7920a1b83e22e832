"""Reads of the events outbox."""

from __future__ import annotations

from inboxbridge.events.models import Event


def waiting_fan_out(limit: int) -> list[Event]:
    """The oldest events not yet turned into deliveries, oldest first."""
    return list(Event.objects.filter(fanned_out=False).order_by("id")[:limit])
