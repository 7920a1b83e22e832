"""Writes of the webhooks app, one transaction each: endpoints (create, rotate, delete), the
fan-out of events into deliveries, and each delivery's claim, outcome and Resend. They return what
changed; the caller enqueues the delivery work (tasks.deliver_on_commit)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
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
CLAIM_SECONDS = 120  # a worker that died mid-send leaves its claim; the delivery is tried again after


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


def due_heads(limit: int, now: datetime | None = None) -> list[int]:
    """Deliveries that may be sent now: due, not claimed, and the first pending one of their
    mailbox for their endpoint (the order per mailbox), oldest event first."""
    now = now or timezone.now()
    earlier = Delivery.objects.filter(endpoint_id=OuterRef("endpoint_id"), mailbox_key=OuterRef("mailbox_key"),
                                      status=Delivery.Status.PENDING, event_id__lt=OuterRef("event_id"))
    return list(Delivery.objects.filter(_claimable(now)).exclude(Exists(earlier)).order_by("event_id")
                .values_list("pk", flat=True)[:limit])


def next_in_lane(delivery: Delivery, now: datetime | None = None) -> int | None:
    """The mailbox's next pending delivery to the same endpoint, if it may be sent now."""
    now = now or timezone.now()
    following = (Delivery.objects.filter(endpoint_id=delivery.endpoint_id, mailbox_key=delivery.mailbox_key,
                                         status=Delivery.Status.PENDING)
                 .order_by("event_id").values_list("pk", "next_attempt_at", "claimed_until").first())
    if following is None:
        return None
    pk, due, claimed = following
    return pk if due <= now and (claimed is None or claimed < now) else None


def claim(delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Take one delivery to send it; None when another worker has it or it is no longer due."""
    now = now or timezone.now()
    with transaction.atomic():
        taken = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    if not taken:
        return None
    return Delivery.objects.select_related("endpoint", "event").get(pk=delivery_id)


@transaction.atomic
def record_attempt(delivery: Delivery, attempt: Attempt, now: datetime | None = None) -> Delivery.Status:
    """Keep the outcome in the log. A failure is retried later (retry_delay) until the delivery's
    day is over; then it is given up and its endpoint marked failing (the administrators are told
    by the notifications). A success marks a failing endpoint active again."""
    now = now or timezone.now()
    attempts = delivery.attempts + 1
    fields: dict[str, object] = {
        "attempts": attempts, "last_attempt_at": now, "claimed_until": None, "response_status": attempt.status,
        "latency_ms": attempt.latency_ms, "response_excerpt": attempt.excerpt,
    }
    endpoint = Endpoint.objects.filter(pk=delivery.endpoint_id)
    if attempt.ok:
        fields.update(status=Delivery.Status.DELIVERED, delivered_at=now)
        endpoint.filter(state=Endpoint.State.FAILING).update(state=Endpoint.State.ACTIVE, failing_since=None,
                                                              last_error="")
    elif now + retry_delay(attempts) <= delivery.give_up_at:
        fields["next_attempt_at"] = now + retry_delay(attempts)
    else:
        fields["status"] = Delivery.Status.GAVE_UP
        error = f"Gave up on event {delivery.event_id} after {attempts} attempts: {attempt.excerpt}"[:500]
        endpoint.update(last_error=error)
        endpoint.filter(state=Endpoint.State.ACTIVE).update(state=Endpoint.State.FAILING, failing_since=now)
    Delivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return delivery.status  # type: ignore[return-value]

