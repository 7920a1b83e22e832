"""Sending the due deliveries: each mailbox's events to an endpoint one after the other (a lane),
the next only once the one before was delivered or given up.

A worker takes the heads of the lanes that are due and drains each lane while its deliveries
succeed; a failure leaves the lane for its retry time. At least once: a worker that dies after the
receiver answered but before the outcome was written sends that event again after CLAIM_SECONDS
(with the same webhook-id, for the receiver to drop)."""

from __future__ import annotations

import json
import logging
import time

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from inboxbridge.webhooks import actions, sender, signing
from inboxbridge.webhooks.models import Delivery

logger = logging.getLogger(__name__)

HEADS_PER_ROUND = 50


def body_of(delivery: Delivery) -> bytes:
    event = delivery.event
    document = {"type": event.type, "timestamp": event.created_at.isoformat(),
                "data": {"mailbox_id": event.mailbox_id, **event.payload}}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def send(delivery: Delivery) -> Delivery.Status:
    """One attempt of a claimed delivery, its outcome recorded."""
    now = timezone.now()
    body = body_of(delivery)
    headers = signing.signed_headers(signing.message_id(delivery.event_id), now, body,
                                     delivery.endpoint.secrets(now))
    attempt = sender.post(delivery.endpoint.url, body, headers)
    if not attempt.ok:
        logger.info("Webhook endpoint %s: event %s not delivered (attempt %s): %s", delivery.endpoint_id,
                    delivery.event_id, delivery.attempts + 1, attempt.excerpt[:200])
    return actions.record_attempt(delivery, attempt)


def deliver_due(*, budget_seconds: float = 50.0) -> int:
    """Fan out the waiting events, then send what is due until nothing is or the budget is spent;
    returns how many attempts were made."""
    deadline = time.monotonic() + budget_seconds
    while actions.fan_out() and time.monotonic() < deadline:
        pass
    attempts = 0
    while time.monotonic() < deadline:
        heads = actions.due_heads(HEADS_PER_ROUND)
        if not heads:
            break
        for head in heads:
            attempts += _drain_lane(head, deadline)
            if time.monotonic() >= deadline:
                break
    return attempts


def _drain_lane(delivery_id: int | None, deadline: float) -> int:
    attempts = 0
    while delivery_id is not None and time.monotonic() < deadline:
        delivery = actions.claim(delivery_id)
        if delivery is None:
            return attempts
        attempts += 1
        if send(delivery) != Delivery.Status.DELIVERED:
            return attempts
        delivery_id = actions.next_in_lane(delivery)
    return attempts
