"""Writes of the webhooks app, one transaction each: endpoints (create, rotate, delete), the
fan-out of events into deliveries, the claim of a run of a lane's deliveries, their outcomes, and
Resend. They return what changed; the caller enqueues the delivery work (tasks.deliver_on_commit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.events.actions import mark_fanned_out
from inboxbridge.events.models import Event
from inboxbridge.events.queries import waiting_fan_out
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import visible_mailboxes
from inboxbridge.webhooks import signing
from inboxbridge.webhooks.models import Delivery, Endpoint
from inboxbridge.webhooks.sender import Attempt

FAN_OUT_BATCH = 1000
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
CLAIM_SECONDS = 120  # a worker that died mid-run leaves its claims; those deliveries are tried again after
# A run: the deliveries of one lane claimed, sent and recorded together (one claim and one write for
# up to this many, instead of one of each per delivery).
RUN_LENGTH = 100


@dataclass(frozen=True)
class Created:
    endpoint: Endpoint
    secret: str  # shown once, never again


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour apart."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


@transaction.atomic
def create_endpoint(actor: User, *, owner: User | None, url: str, events: Sequence[str],
                    mailbox: Mailbox | None, description: str = "") -> Created:
    """Register an endpoint (checked by the form: the URL vetted, the mailbox visible to `owner`)."""
    secret = signing.new_secret()
    endpoint = Endpoint.objects.create(owner=owner, created_by=actor, url=url, events=list(events), mailbox=mailbox,
                                       description=description, secret=secret)
    record_audit_event(actor, "webhook.created", url, endpoint=endpoint.pk, events=list(events),
                       mailbox=mailbox.email_address if mailbox else "", owner=owner.get_username() if owner else "")
    return Created(endpoint, secret)


@transaction.atomic
def rotate_secret(actor: User, endpoint: Endpoint) -> str:
    """A new secret; the old one still signs (beside it) for WEBHOOK_SECRET_OVERLAP_HOURS."""
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = signing.new_secret()
    locked.previous_secret, locked.secret = locked.secret, secret
    locked.previous_secret_expires_at = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    record_audit_event(actor, "webhook.secret_rotated", locked.url, endpoint=locked.pk)
    return secret


@transaction.atomic
def delete_endpoint(actor: User, endpoint: Endpoint) -> None:
    record_audit_event(actor, "webhook.deleted", endpoint.url, endpoint=endpoint.pk)
    endpoint.delete()


@transaction.atomic
def resend(delivery: Delivery) -> bool:
    """Send this event to its endpoint again (same webhook-id), with a fresh day of retries. It
    goes before the mailbox's later events to that endpoint, which wait for it."""
    now = timezone.now()
    return bool(Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, next_attempt_at=now, claimed_until=None,
        give_up_at=now + timedelta(hours=settings.WEBHOOK_RETRY_HOURS)))


# -- fan-out ------------------------------------------------------------------------------------


def fan_out(limit: int = FAN_OUT_BATCH) -> int:
    """Turn the oldest events not yet fanned out into one delivery per matching endpoint; returns
    how many events were handled. Who may receive what is decided here, at the time of the event:
    a user's endpoint gets only events of mailboxes in `visible_mailboxes(owner)`."""
    with transaction.atomic():
        events = waiting_fan_out(limit)
        if not events:
            return 0
        endpoints = list(Endpoint.objects.select_related("owner"))
        rows = [Delivery(endpoint=endpoint, event=event, mailbox_key=event.mailbox_id or 0,
                         next_attempt_at=event.created_at,
                         give_up_at=event.created_at + timedelta(hours=settings.WEBHOOK_RETRY_HOURS))
                for event, endpoint in _matches(events, endpoints)]
        # Two fan-outs at once (two workers) meet on the unique (endpoint, event): once each.
        Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        mark_fanned_out([event.pk for event in events])
    return len(events)


def _matches(events: Iterable[Event], endpoints: list[Endpoint]) -> Iterable[tuple[Event, Endpoint]]:
    visible: dict[int, set[int]] = {}
    for endpoint in endpoints:
        owner = endpoint.owner
        if owner is not None and owner.pk not in visible:
            allowed = visible_mailboxes(owner).values_list("pk", flat=True) if owner.is_active else []
            visible[owner.pk] = set(allowed)
    for event in events:
        for endpoint in endpoints:
            if event.type not in endpoint.events or event.created_at < endpoint.created_at:
                continue
            if endpoint.mailbox_id is not None and event.mailbox_id != endpoint.mailbox_id:
                continue
            if endpoint.owner_id is not None and event.mailbox_id not in visible[endpoint.owner_id]:
                continue
            yield event, endpoint


# -- delivering ---------------------------------------------------------------------------------


def _claimable(now: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def due_lanes(limit: int, now: datetime | None = None) -> list[tuple[int, int]]:
    """Lanes (endpoint, mailbox key) whose first pending delivery may be sent now: due and not
    claimed (the order per mailbox: nothing behind it goes first), oldest event first."""
    now = now or timezone.now()
    earlier = Delivery.objects.filter(endpoint_id=OuterRef("endpoint_id"), mailbox_key=OuterRef("mailbox_key"),
                                      status=Delivery.Status.PENDING, event_id__lt=OuterRef("event_id"))
    heads = (Delivery.objects.filter(_claimable(now)).exclude(Exists(earlier)).order_by("event_id")
             .values_list("endpoint_id", "mailbox_key")[:limit])
    return [(endpoint_id, mailbox_key) for endpoint_id, mailbox_key in heads]


def claim_run(endpoint_id: int, mailbox_key: int, *, limit: int = RUN_LENGTH,
              now: datetime | None = None) -> list[Delivery]:
    """Take the lane's next deliveries to send them in order: its first `limit` pending ones by
    event, up to the first that is not due or is claimed; all of them or none (another worker got
    there first: none). Each comes with its event, and all with the one endpoint loaded once."""
    now = now or timezone.now()
    with transaction.atomic():
        lane = (Delivery.objects.filter(endpoint_id=endpoint_id, mailbox_key=mailbox_key,
                                        status=Delivery.Status.PENDING)
                .order_by("event_id").values_list("pk", "next_attempt_at", "claimed_until")[:limit])
        ids = [pk for pk, _due, _claimed in takewhile(lambda row: row[1] <= now and (row[2] is None or row[2] < now),
                                                      lane)]
        if not ids:
            return []
        taken = Delivery.objects.filter(_claimable(now), pk__in=ids).update(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        if taken != len(ids):
            transaction.set_rollback(True)
            return []
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    run = list(Delivery.objects.filter(pk__in=ids).select_related("event").order_by("event_id"))
    if endpoint is None:  # deleted meanwhile, and its deliveries with it
        return []
    for delivery in run:
        delivery.endpoint = endpoint
    return run


@dataclass(frozen=True)
class Sent:
    """One attempt of a claimed delivery."""

    delivery: Delivery
    attempt: Attempt
    at: datetime  # when it was answered (or failed)


_RECORDED = ["attempts", "last_attempt_at", "claimed_until", "response_status", "latency_ms", "response_excerpt",
             "status", "delivered_at", "next_attempt_at"]


@transaction.atomic
def record_attempts(sent: Sequence[Sent], *, unsent: Sequence[int] = ()) -> None:
    """Keep a run's outcomes in the log, in order, and give back the claims of the deliveries it did
    not send. A failure is retried later (retry_delay) until the delivery's day is over; then it is
    given up and its endpoint marked failing (the administrators are told by the notifications).
    A success marks a failing endpoint active again."""
    reactivated: set[int] = set()
    for one in sent:
        delivery, attempt, now = one.delivery, one.attempt, one.at
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.claimed_until = now, None
        delivery.response_status, delivery.latency_ms = attempt.status, attempt.latency_ms
        delivery.response_excerpt = attempt.excerpt
        endpoint = Endpoint.objects.filter(pk=delivery.endpoint_id)
        if attempt.ok:
            delivery.status, delivery.delivered_at = Delivery.Status.DELIVERED, now
            if delivery.endpoint_id not in reactivated:
                reactivated.add(delivery.endpoint_id)
                endpoint.filter(state=Endpoint.State.FAILING).update(state=Endpoint.State.ACTIVE, failing_since=None,
                                                                      last_error="")
        elif now + retry_delay(delivery.attempts) <= delivery.give_up_at:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
        else:
            delivery.status = Delivery.Status.GAVE_UP
            error = f"Gave up on event {delivery.event_id} after {delivery.attempts} attempts: {attempt.excerpt}"
            endpoint.update(last_error=error[:500])
            endpoint.filter(state=Endpoint.State.ACTIVE).update(state=Endpoint.State.FAILING, failing_since=now)
            reactivated.discard(delivery.endpoint_id)
    _write([one.delivery for one in sent], _RECORDED)
    if unsent:
        Delivery.objects.filter(pk__in=unsent, status=Delivery.Status.PENDING).update(claimed_until=None)


def _write(rows: Sequence[Delivery], names: Sequence[str]) -> None:
    """UPDATE these fields of the rows by primary key, one statement run for all of them. The
    ORM's bulk_update builds a CASE per field and row: it cost twice the HTTP requests of a run."""
    if not rows:
        return
    meta = Delivery._meta
    fields = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    where = f"{quote(meta.pk.column)} = %s"
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {where}"  # noqa: S608 (names from the model)
    params = [[field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields] + [row.pk]
              for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
