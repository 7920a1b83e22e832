"""Reads of the autoresponse app."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from inboxbridge.autoresponse.models import Answer, Rule
from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.models import Mailbox

# The mail server's clock (an email's received time) may be a little behind ours: mail received
# this long before the rule was enabled still counts as new.
CLOCK_SKEW = timedelta(minutes=5)
LAST_ANSWERS = 20


def system_mailbox_rules(mailbox: Mailbox) -> QuerySet[Rule]:
    return Rule.objects.filter(mailbox=mailbox).select_related("author")


def answering_rules(mailbox_id: int) -> list[Rule]:
    """The rules that answer the new mail of a mailbox now: enabled, on a system mailbox still in use."""
    return list(_answering(mailbox_id).select_related("mailbox", "author").order_by("pk"))


def _answering(mailbox_id: int) -> QuerySet[Rule]:
    return Rule.objects.filter(mailbox_id=mailbox_id, enabled=True, mailbox__active=True, mailbox__owner__isnull=True)


def answering_as(rule: Rule) -> User | None:
    """Whose outbox a rule's answers go through: the administrator who last saved it, or while that
    account is deleted or deactivated, the longest-standing active administrator (the answers must
    not stop because a person left). None only when no administrator is active."""
    if rule.author is not None and rule.author.is_active and rule.author.is_staff:
        return rule.author
    return User.objects.filter(is_active=True, is_staff=True).order_by("-is_superuser", "pk").first()


def latest_email_id(mailbox_id: int) -> int:
    return Email.objects.filter(mailbox_id=mailbox_id).aggregate(latest=Max("pk"))["latest"] or 0


def mail_after(rule: Rule, *, limit: int) -> list[tuple[Email, bool]]:
    """The mailbox's emails past the rule's high-water mark, oldest first, each with whether it may
    be answered: in the INBOX (not Sent, Junk or another folder) and received since the rule was
    enabled.

    One writer stores a mailbox's mail (its sync holds the mailbox's lease), so its emails get
    increasing ids in the order they commit: an email below the mark was there before."""
    inbox = Placement.objects.filter(email=OuterRef("pk")).filter(
        Q(folder__name__iexact="INBOX") | Q(folder__special_use__iexact="\\Inbox"))
    rows = (Email.objects.filter(mailbox_id=rule.mailbox_id, pk__gt=rule.checked_up_to)
            .annotate(in_inbox=Exists(inbox)).order_by("pk")[:limit])
    since = rule.enabled_at - CLOCK_SKEW if rule.enabled_at is not None else None
    found: list[tuple[Email, bool]] = []
    for email in rows:
        recent = since is None or email.received_at is None or email.received_at >= since
        found.append((email, bool(email.in_inbox) and recent))
    return found


def is_our_answer(message_id: str) -> bool:
    """Is this Message-ID one of the answers inboxbridge sent?"""
    return bool(message_id) and Answer.objects.filter(message_id=message_id).exists()


def last_answers(rule: Rule) -> list[Answer]:
    return list(rule.answers.select_related("outgoing")[:LAST_ANSWERS])


def awaiting_answers(mailbox_id: int) -> bool:
    """Does an enabled rule of the mailbox have mail past its high-water mark to look at? (After a
    sync; also true again after a lost task, so the next sync picks its work up.)"""
    marks = _answering(mailbox_id).values_list("checked_up_to", flat=True)
    lowest = min(marks, default=None)
    return lowest is not None and Email.objects.filter(mailbox_id=mailbox_id, pk__gt=lowest).exists()
