"""Endpoints (where events go, whose they are, their secrets) and Deliveries (one event to one
endpoint: its attempts and outcome, the delivery log)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inboxbridge.events.models import Event, EventType
from inboxbridge.lib.fields import EncryptedTextField

EVENT_TYPES: tuple[str, ...] = tuple(EventType.values)


class Endpoint(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        FAILING = "failing", "Failing"

    # None: an administrator's endpoint, for every mailbox (or the one of `mailbox`). A user's
    # endpoint receives only events of mailboxes that user may see at the time of the event.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="webhook_endpoints")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)  # a subset of EVENT_TYPES
    mailbox = models.ForeignKey("mailboxes.Mailbox", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="webhook_endpoints")
    secret = EncryptedTextField()
    # The secret before the last rotation: deliveries are signed with both until it expires, so a
    # receiver can switch to the new one without missing a delivery.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state"], name="webhook_endpoint_state")]

    def __str__(self) -> str:
        return self.url

    def secrets(self, now: object | None = None) -> list[str]:
        """The secrets to sign with now: the current one, and the previous while it is valid."""
        now = now or timezone.now()
        keep_previous = bool(self.previous_secret and self.previous_secret_expires_at
                             and self.previous_secret_expires_at > now)  # type: ignore[operator]
        return [self.secret, self.previous_secret] if keep_previous else [self.secret]


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        GAVE_UP = "gave_up", "Given up"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    # Copied from the event (0 for none): the order is kept per (endpoint, mailbox).
    mailbox_key = models.BigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    give_up_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # What the receiver answered (or why there was no answer), truncated and redacted.
    response_excerpt = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="unique_webhook_delivery")]
        indexes = [
            models.Index(fields=["endpoint", "mailbox_key", "event"], condition=models.Q(status="pending"),
                         name="webhook_delivery_pending"),
            models.Index(fields=["endpoint", "-event"], name="webhook_delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id}"
