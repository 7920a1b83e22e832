"""Autoresponse rules of system mailboxes, and the answers they sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from inboxbridge.autoresponse.rules import Condition
from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.models import OutgoingMessage


class Rule(models.Model):
    """Answer the new mail of a system mailbox that matches all `conditions` with the template."""

    class Field(models.TextChoices):
        FROM = "from", "From"
        TO = "to", "To"
        CC = "cc", "Cc"
        SUBJECT = "subject", "Subject"
        BODY = "body", "Body"

    class Operator(models.TextChoices):
        CONTAINS = "contains", "contains"
        EQUALS = "equals", "equals"
        STARTS_WITH = "starts_with", "starts with"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="autoresponse_rules")
    name = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    # [{"field": ..., "operator": ..., "value": ...}, ...]; all must match.
    conditions = models.JSONField(default=list, blank=True)
    subject_template = models.CharField(max_length=998, blank=True)
    body_template = models.TextField()
    # The answers go out under this administrator's name in the outbox (the outbox needs an author);
    # the last one to save the rule. While that account is deleted or deactivated, another active
    # administrator's (queries.answering_as).
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Only mail that arrives after the rule was enabled is answered, never the backlog: emails with a
    # higher id than this high-water mark (set to the mailbox's latest email when enabled, then moved
    # on as new mail is looked at) and received since `enabled_at` (for a mailbox not synced yet).
    enabled_at = models.DateTimeField(null=True, blank=True)
    checked_up_to = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["mailbox", "enabled"])]

    def __str__(self) -> str:
        return self.name

    @property
    def condition_list(self) -> list[Condition]:
        return [Condition(str(item.get("field", "")), str(item.get("operator", "")), str(item.get("value", "")))
                for item in self.conditions if isinstance(item, dict)]

    @property
    def conditions_text(self) -> str:
        fields, operators = dict(self.Field.choices), dict(self.Operator.choices)
        parts = [f"{fields.get(c.field, c.field)} {operators.get(c.operator, c.operator)} “{c.value}”"
                 for c in self.condition_list]
        return " and ".join(parts) or "every new email"


class Answer(models.Model):
    """One automatic answer: which rule answered which email, to whom, and its outbox message.
    The unique constraints are what keep two workers (or a task run twice) from answering twice."""

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="answers")
    email = models.ForeignKey(Email, null=True, on_delete=models.SET_NULL, related_name="+")
    sender = models.CharField(max_length=320, help_text="The original's From address, lowercased.")
    recipient = models.CharField(max_length=320)
    # The sender's day in the server's time zone: at most one answer per sender per rule per day.
    day = models.DateField()
    answered_at = models.DateTimeField()
    original_subject = models.TextField(blank=True)
    outgoing = models.ForeignKey(OutgoingMessage, null=True, on_delete=models.SET_NULL, related_name="+")
    # The answer's own Message-ID: when it comes back (to another inboxbridge mailbox), it is never
    # answered, even if a server on the way dropped its Auto-Submitted header.
    message_id = models.CharField(max_length=255, db_index=True)

    class Meta:
        ordering = ["-answered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "sender", "day"], name="unique_answer_per_sender_per_day"),
            models.UniqueConstraint(fields=["rule", "email"], name="unique_answer_per_email"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} -> {self.recipient}"
