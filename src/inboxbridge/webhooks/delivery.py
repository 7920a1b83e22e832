"""Sending the due deliveries: each mailbox's events to an endpoint one after the other (a lane),
the next only once the one before was delivered or given up.

A worker takes the lanes whose first delivery is due and drains each in runs: it claims up to
RUN_LENGTH of the lane's deliveries at once (actions.claim_run), sends them in event order over
one connection, and writes their outcomes together (actions.record_attempts). A failure ends the
run: it is recorded, the deliveries behind it are given back and wait for its retry. A run starts
no send that could outlast its claims, and writes what it sent every FLUSH_SECONDS, so the
delivery log stays current with a slow receiver.

At least once: when a worker dies after receivers answered but before the outcomes were written,
those events are sent again after CLAIM_SECONDS (with the same webhook-id, for the receiver to drop).

Why runs: a burst of new mail (a first sync: thousands of events in one lane) went one delivery at
a time before, each with a claim, a reload, a lookup and a new connection, a write and a look at the
next one, and their commits: 55 to 110 deliveries a second on the bench's two cores, 350 to 750 in
runs (docs/benchmarks.md, "API and webhooks").
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from inboxbridge.webhooks import actions, sender, signing
from inboxbridge.webhooks.models import Delivery

logger = logging.getLogger(__name__)

LANES_PER_ROUND = 50
FLUSH_SECONDS = 1.0


def body_of(delivery: Delivery) -> bytes:
    event = delivery.event
    document = {"type": event.type, "timestamp": event.created_at.isoformat(),
                "data": {"mailbox_id": event.mailbox_id, **event.payload}}
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def send(delivery: Delivery, connection: sender.Connection) -> actions.Sent:
    """One attempt of a claimed delivery (its outcome is written by the caller, with its run's)."""
    now = timezone.now()
    body = body_of(delivery)
    headers = signing.signed_headers(signing.message_id(delivery.event_id), now, body,
                                     delivery.endpoint.secrets(now))
    attempt = connection.post(body, headers)
    if not attempt.ok:
        logger.info("Webhook endpoint %s: event %s not delivered (attempt %s): %s", delivery.endpoint_id,
                    delivery.event_id, delivery.attempts + 1, attempt.excerpt[:200])
    return actions.Sent(delivery, attempt, timezone.now())


def deliver_due(*, budget_seconds: float = 50.0) -> int:
    """Fan out the waiting events and send what is due, again and again (events recorded meanwhile
    are fanned out on the next round), until nothing is due or the budget is spent; returns how
    many attempts were made."""
    deadline = time.monotonic() + budget_seconds
    attempts = 0
    while time.monotonic() < deadline:
        while actions.fan_out() and time.monotonic() < deadline:
            pass
        lanes = actions.due_lanes(LANES_PER_ROUND)
        made = 0
        for endpoint_id, mailbox_key in lanes:
            made += _drain_lane(endpoint_id, mailbox_key, deadline)
            if time.monotonic() >= deadline:
                break
        attempts += made
        if not made:  # nothing due, or other workers hold what is
            break
    return attempts


def _drain_lane(endpoint_id: int, mailbox_key: int, deadline: float) -> int:
    attempts = 0
    while time.monotonic() < deadline:
        run = actions.claim_run(endpoint_id, mailbox_key)
        if not run:
            return attempts
        sent, finished = _send_run(run, deadline)
        attempts += sent
        if not finished:
            return attempts
    return attempts


def _send_run(run: Sequence[Delivery], deadline: float) -> tuple[int, bool]:
    """Send a claimed run in order; returns the attempts made and whether every one was delivered."""
    # Start no send that could outlast the claims: one send takes at most about two timeouts
    # (connecting, then waiting for the answer).
    claims_end = time.monotonic() + actions.CLAIM_SECONDS - 2 * settings.WEBHOOK_TIMEOUT_SECONDS
    stop_at = min(deadline, claims_end)
    unwritten: list[actions.Sent] = []
    written_at = time.monotonic()
    made = 0
    delivered = True
    with sender.Connection(run[0].endpoint.url) as connection:
        for delivery in run:
            if made and time.monotonic() >= stop_at:
                break
            unwritten.append(send(delivery, connection))
            made += 1
            if not unwritten[-1].attempt.ok:
                delivered = False
                break
            if time.monotonic() - written_at >= FLUSH_SECONDS:
                actions.record_attempts(unwritten)
                unwritten, written_at = [], time.monotonic()
    actions.record_attempts(unwritten, unsent=[d.pk for d in run[made:]])
    return made, delivered and made == len(run)
