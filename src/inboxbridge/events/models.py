"""The outbox of events: one row per change that an application outside may want to hear about.

A low app: it knows no other app of ours. The mailbox is a plain integer, not a foreign key, so an
event outlives the mailbox it speaks of (a delivery still pending when the mailbox is deleted is
still sent) and writing one costs no lookup.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    MESSAGE_NEW = "message.new", "A new message arrived"
    MESSAGE_UPDATED = "message.updated", "A message was read, unread, flagged or unflagged"
    MESSAGE_DELETED = "message.deleted", "A message is gone from every folder"
    MAILBOX_AUTH_FAILED = "mailbox.auth_failed", "A mailbox's sign-in was refused: it waits for Reconnect"
    MAILBOX_RECONNECTED = "mailbox.reconnected", "A mailbox was signed in again"
    MAILBOX_SYNC_FAILED = "mailbox.sync_failed", "A mailbox's sync failed"
    OUTBOX_SENT = "outbox.sent", "A message of the outbox was sent"
    OUTBOX_FAILED = "outbox.failed", "A message of the outbox could not be sent"
    AUTORESPONSE_SENT = "autoresponse.sent", "An automatic answer was queued"


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=40, choices=EventType.choices)
    mailbox_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # False until the webhooks' fan-out turned it into deliveries. A flag rather than a high-water
    # mark: ids are handed out when a row is inserted, not when its transaction commits, so a
    # long sync transaction can commit ids below ones that were already fanned out.
    fanned_out = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["id"], condition=models.Q(fanned_out=False), name="event_waiting_fan_out"),
            models.Index(fields=["created_at"], name="event_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"
