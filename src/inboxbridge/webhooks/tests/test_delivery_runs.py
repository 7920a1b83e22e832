"""Deliveries in runs: a burst of a mailbox's events goes in order over one kept connection with
every outcome in the log; a failure in the middle of a run holds back the events behind it until
its retry; a worker that dies in the middle of a run leaves its events to the next one once the
claims expire, sent again with the same webhook-ids (at least once, never out of order)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.factories import make_mailbox

from inboxbridge.events.actions import record_event
from inboxbridge.events.models import EventType
from inboxbridge.webhooks import actions, delivery
from inboxbridge.webhooks.delivery import deliver_due
from inboxbridge.webhooks.models import Delivery
from inboxbridge.webhooks.sender import Connection
from inboxbridge.webhooks.tests.receiver import clock_moved

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_private_allowed")]


def subjects_in_order(receiver, secret: str) -> dict[int, list[str]]:
    by_mailbox: dict[int, list[str]] = {}
    for request in receiver.accepted:
        data = request.verify(secret)["data"]
        by_mailbox.setdefault(data["mailbox_id"], []).append(data["subject"])
    return by_mailbox


def test_a_burst_arrives_in_order_over_one_connection_per_run_and_every_outcome_is_logged(admin_user, receiver):
    burst, quiet = make_mailbox(None), make_mailbox(None)
    created = actions.create_endpoint(admin_user, owner=None, url=receiver.url, events=["message.new"], mailbox=None)
    count = 2 * actions.RUN_LENGTH + 50  # three runs
    for n in range(count):
        record_event(EventType.MESSAGE_NEW, burst.pk, {"subject": f"burst {n}"})
        if n % 100 == 0:
            record_event(EventType.MESSAGE_NEW, quiet.pk, {"subject": f"quiet {n}"})

    assert deliver_due(budget_seconds=30) == count + 3

    assert subjects_in_order(receiver, created.secret) == {
        burst.pk: [f"burst {n}" for n in range(count)], quiet.pk: ["quiet 0", "quiet 100", "quiet 200"]}
    assert len({request.id for request in receiver.requests}) == count + 3
    assert receiver.connections <= 4  # a connection per run, not per event
    logged = list(Delivery.objects.all())
    assert {(d.status, d.attempts, d.response_status, d.claimed_until) for d in logged} == {
        (Delivery.Status.DELIVERED, 1, 200, None)}
    assert all(d.delivered_at is not None and d.latency_ms is not None and d.response_excerpt == "ok" for d in logged)


def test_a_failure_in_the_middle_of_a_run_holds_back_the_events_behind_it_until_its_retry(admin_user, receiver):
    mailbox = make_mailbox(None)
    created = actions.create_endpoint(admin_user, owner=None, url=receiver.url, events=["message.new"], mailbox=None)
    for n in range(5):
        record_event(EventType.MESSAGE_NEW, mailbox.pk, {"subject": f"m{n}"})
    receiver.script = [200, 200, 500]

    assert deliver_due(budget_seconds=10) == 3
    assert [(d.status, d.attempts, d.claimed_until) for d in Delivery.objects.order_by("event_id")] == [
        (Delivery.Status.DELIVERED, 1, None), (Delivery.Status.DELIVERED, 1, None),
        (Delivery.Status.PENDING, 1, None), (Delivery.Status.PENDING, 0, None), (Delivery.Status.PENDING, 0, None)]
    assert deliver_due(budget_seconds=10) == 0  # the third's retry is not due, and the others wait behind it

    with clock_moved(timedelta(seconds=31)):
        assert deliver_due(budget_seconds=10) == 3
    assert [r.document["data"]["subject"] for r in receiver.requests] == ["m0", "m1", "m2", "m2", "m3", "m4"]
    assert subjects_in_order(receiver, created.secret) == {mailbox.pk: ["m0", "m1", "m2", "m3", "m4"]}
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}


def test_a_worker_that_dies_in_the_middle_of_a_run_leaves_its_events_to_the_next_after_the_claims(
        admin_user, receiver):
    mailbox = make_mailbox(None)
    created = actions.create_endpoint(admin_user, owner=None, url=receiver.url, events=["message.new"], mailbox=None)
    for n in range(4):
        record_event(EventType.MESSAGE_NEW, mailbox.pk, {"subject": f"m{n}"})
    actions.fan_out()
    # A worker claims the lane's run, sends two of it, and dies before it writes any outcome.
    run = actions.claim_run(created.endpoint.pk, mailbox.pk)
    assert len(run) == 4
    with Connection(receiver.url) as connection:
        for claimed in run[:2]:
            assert delivery.send(claimed, connection).attempt.ok
    first_ids = [request.id for request in receiver.requests]

    assert deliver_due(budget_seconds=10) == 0  # its claims still hold: nobody else sends meanwhile
    with clock_moved(timedelta(seconds=actions.CLAIM_SECONDS + 1)):
        assert deliver_due(budget_seconds=10) == 4

    resent = [request.id for request in receiver.requests[2:]]
    assert resent[:2] == first_ids  # the same webhook-ids, for the receiver to drop the repeats
    assert [r.document["data"]["subject"] for r in receiver.requests] == ["m0", "m1", "m0", "m1", "m2", "m3"]
    assert set(Delivery.objects.values_list("status", "attempts")) == {(Delivery.Status.DELIVERED, 1)}
