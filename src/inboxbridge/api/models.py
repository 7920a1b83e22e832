from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for the REST API. It acts as `user` (with that user's permissions, narrowed by
    `scopes`). Only a SHA-256 of the secret is kept: the token is shown once, when created."""

    class Scope(models.TextChoices):
        MAIL_READ = "mail:read", "mail:read: read mail, folders and threads, set read and flagged"
        MAIL_SEND = "mail:send", "mail:send: send from the mailboxes the user may send from, see the outbox"
        MAILBOXES_MANAGE = "mailboxes:manage", "mailboxes:manage: ask for a sync, make links to connect Office 365"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    # An administrator creating a token for a service user; the user themselves otherwise.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16, unique=True, help_text="The public part of the token, to find it.")
    secret_sha256 = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    @property
    def display_id(self) -> str:
        """What the token starts with, to recognise it (the rest is secret)."""
        return f"ibx_{self.key_id}_…"


class IdempotentSend(models.Model):
    """One send through the API under an Idempotency-Key: the same key again answers with the same
    outbox message instead of sending a second one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # What was asked the first time: the same key with another request is refused, not replayed.
    request_sha256 = models.CharField(max_length=64)
    message = models.ForeignKey("sending.OutgoingMessage", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key_per_user")]

    def __str__(self) -> str:
        return self.key


class ConnectLink(models.Model):
    """A link an application sends a person to, to connect their Office 365 mailbox as one of
    `owner`'s mailboxes (or to Reconnect `mailbox`). The URL carries the secret; only its SHA-256 is
    kept. Used once, until `expires_at`, and only while `token` is still valid."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="connect_links",
                              help_text="The API token that made it: the application the mail is for.")
    secret_sha256 = models.CharField(max_length=64, unique=True)
    redirect_url = models.CharField(max_length=2000, blank=True, help_text="Where the browser goes afterwards.")
    mailbox = models.ForeignKey("mailboxes.Mailbox", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+", help_text="Reconnect this mailbox; empty: connect one.")
    login_hint = models.CharField(max_length=320, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "expires_at"])]

    def __str__(self) -> str:
        return f"connect link {self.pk}"
