"""Notifications: what inboxbridge tells a person (in the app and by email), once per incident,
and what each person wants to be told."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    MAILBOX_REVOKED = "mailbox_revoked", "My mailbox's authorization was revoked"
    SYNC_FAILING = "sync_failing", "My mailbox's sync keeps failing"
    SEND_FAILED = "send_failed", "A message I wrote could not be sent"
    CREDENTIAL_EXPIRY = "credential_expiry", "The Microsoft client secret or certificate expires (administrators)"
    SYSTEM_MAILBOX_ALERT = "system_mailbox_alert", "A system mailbox I receive alerts for needs attention"
    WEBHOOK_FAILING = "webhook_failing", "A webhook endpoint gave up delivering (administrators, and its owner)"


class Notification(models.Model):
    """One incident told to one person. The unique (user, kind, incident_key) is what makes it
    once per incident: the periodic job finds the same incident again and again while it lasts,
    and only the first finding creates a row; the email is sent for the row, at least once."""

    class Email(models.TextChoices):
        NOT_WANTED = "not_wanted", "Not wanted"
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not sent"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    incident_key = models.CharField(max_length=300)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    url = models.CharField(max_length=500, blank=True, help_text="The page to act on, as a path of this site.")
    in_app = models.BooleanField(default=True, help_text="Shown in the user's list of notifications.")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    email = models.CharField(max_length=12, choices=Email.choices, default=Email.PENDING)
    email_attempts = models.PositiveIntegerField(default=0)
    # While pending: when the periodic job hands it to a worker (again). Set ahead when a task is
    # enqueued for it, so a lost task costs a delay, never the email.
    email_due_at = models.DateTimeField(null=True, blank=True)
    # While a worker sends it: past this, that worker is presumed dead.
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "incident_key"], name="unique_notification_incident"),
        ]
        indexes = [
            models.Index(fields=["user", "in_app", "read_at"]),
            models.Index(fields=["email", "email_due_at"]),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class Preference(models.Model):
    """A person's choice for one kind; without a row, both channels are on."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    by_email = models.BooleanField(default=True)
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="unique_notification_preference")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}"
