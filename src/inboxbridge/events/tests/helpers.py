"""Helpers of the event tests: what the outbox of events holds, and the check that no secret of a
mailbox reached an event."""

from __future__ import annotations

import json
from typing import Any

from inboxbridge.events.models import Event, EventType
from inboxbridge.mailboxes.models import Mailbox


def recorded(kind: EventType) -> list[dict[str, Any]]:
    """The payloads of the events of one type, oldest first, each with its mailbox_id (as a
    webhook receiver sees it in `data`)."""
    return [{"mailbox_id": mailbox_id, **payload} for mailbox_id, payload in
            Event.objects.filter(type=kind).order_by("id").values_list("mailbox_id", "payload")]


def mailbox_secrets(mailbox: Mailbox) -> set[str]:
    """Every secret the mailbox holds: its password and the tokens in its MSAL cache."""
    stored = Mailbox.objects.get(pk=mailbox.pk)
    found = {stored.password} if stored.password else set()
    cache = json.loads(stored.token_cache or "{}")
    for kind in ("AccessToken", "RefreshToken", "IdToken"):
        found.update(entry["secret"] for entry in cache.get(kind, {}).values())
    return found


def assert_no_secret_in_events(secrets: set[str]) -> None:
    everything = json.dumps(list(Event.objects.values_list("payload", flat=True)))
    leaked = [secret[:6] + "..." for secret in secrets if secret and secret in everything]
    assert not leaked, f"secrets in event payloads: {leaked}"
