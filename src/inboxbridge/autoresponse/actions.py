"""Writes of the autoresponse app, each in one transaction. They never enqueue: the task that
answers returns the outbox messages it queued and hands them to the outbox's worker itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.autoresponse.models import Answer, Rule
from inboxbridge.autoresponse.queries import answering_as, latest_email_id
from inboxbridge.autoresponse.rules import Pair
from inboxbridge.events.actions import record_event
from inboxbridge.events.models import EventType
from inboxbridge.mail.models import Email
from inboxbridge.sending.actions import Draft, queue_message
from inboxbridge.sending.models import OutgoingMessage

# RFC 3834 3.1.7: what an automatic answer says about itself, so no other responder answers it.
AUTO_REPLIED = "auto-replied"


@dataclass(frozen=True)
class Reply:
    """An answer ready to queue: to whom, its text, and the key of the once-a-day limit."""

    recipient: Pair
    subject: str
    body: str
    sender: str  # the original's From address, lowercased
    day: date


def _start_answering(rule: Rule) -> None:
    """From now on: mail already in the mailbox is never answered, only what arrives next."""
    rule.enabled_at = timezone.now()
    rule.checked_up_to = latest_email_id(rule.mailbox_id)


@transaction.atomic
def save_rule(actor: User, rule: Rule) -> Rule:
    """Add or change a rule; the administrator saving it becomes the author its answers go out as."""
    created = rule.pk is None
    was_enabled = not created and Rule.objects.filter(pk=rule.pk, enabled=True).exists()
    if rule.enabled and not was_enabled:
        _start_answering(rule)
    rule.author = actor
    rule.save()
    record_audit_event(actor, "autoresponse.rule_added" if created else "autoresponse.rule_changed",
                       rule.mailbox.email_address, rule=rule.name, enabled=rule.enabled)
    return rule


@transaction.atomic
def set_rule_enabled(actor: User, rule: Rule, enabled: bool) -> bool:
    """Enable or disable a rule; returns whether it changed. Enabling starts from the mail that
    arrives next (what came while it was disabled is not answered)."""
    locked = Rule.objects.select_for_update().select_related("mailbox").get(pk=rule.pk)
    if locked.enabled == enabled:
        return False
    locked.enabled = enabled
    if enabled:
        _start_answering(locked)
        locked.author = actor
    locked.save()
    record_audit_event(actor, "autoresponse.rule_enabled" if enabled else "autoresponse.rule_disabled",
                       locked.mailbox.email_address, rule=locked.name)
    rule.enabled, rule.enabled_at, rule.checked_up_to = locked.enabled, locked.enabled_at, locked.checked_up_to
    return True


@transaction.atomic
def delete_rule(actor: User, rule: Rule) -> None:
    """The rule and the record of its answers go; the answers themselves stay in the outbox."""
    record_audit_event(actor, "autoresponse.rule_deleted", rule.mailbox.email_address, rule=rule.name)
    rule.delete()


def advance_rule(rule: Rule, email_id: int) -> None:
    """Every email up to `email_id` has been looked at by this rule (answered or not)."""
    Rule.objects.filter(pk=rule.pk, checked_up_to__lt=email_id).update(checked_up_to=email_id)
    rule.checked_up_to = max(rule.checked_up_to, email_id)


def answer_email(rule: Rule, email: Email, reply: Reply) -> OutgoingMessage | None:
    """Queue the answer in the outbox and record it, in one transaction; None when the rule was
    disabled meanwhile, or this email or this sender today was already answered by this rule (the
    unique constraints decide, so two workers never both answer)."""
    answered = Answer.objects.filter(rule=rule, sender=reply.sender, day=reply.day) | Answer.objects.filter(
        rule=rule, email=email)
    if answered.exists():
        return None
    author = answering_as(rule)
    if author is None:
        return None
    try:
        with transaction.atomic():
            if not Rule.objects.filter(pk=rule.pk, enabled=True).exists():
                return None
            message = queue_message(author, Draft(
                mailbox=rule.mailbox, to=[reply.recipient], cc=[], bcc=[], subject=reply.subject, body=reply.body,
                sender_name=rule.mailbox.label, reply_to_email=email, auto_submitted=AUTO_REPLIED,
            ))
            Answer.objects.create(
                rule=rule, email=email, sender=reply.sender, recipient=reply.recipient[1], day=reply.day,
                answered_at=timezone.now(), original_subject=email.subject, outgoing=message,
                message_id=message.message_id,
            )
            record_event(EventType.AUTORESPONSE_SENT, rule.mailbox_id, {
                "rule_id": rule.pk, "email_id": email.pk, "outgoing_id": message.pk, "recipient": reply.recipient[1],
                "subject": reply.subject[:1000]})
    except IntegrityError:
        return None  # another run answered first; this one's outbox message was rolled back with it
    return message
