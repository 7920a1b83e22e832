"""Answering a mailbox's new mail with its enabled rules: run by the `answer_new_mail` task after
a sync stored mail. Safe to run twice, or in two workers at once: an email is answered by a rule
at most once and a sender at most once a day (the database's unique constraints), and each rule's
high-water mark only moves forward."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from inboxbridge.autoresponse import actions, queries, rules
from inboxbridge.autoresponse.models import Rule
from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.mime import reply_subject

logger = logging.getLogger(__name__)

BATCH = 200


def own_addresses(mailbox: Mailbox) -> set[str]:
    """The addresses that are the mailbox itself: its Email, and its login when that is an address."""
    found = {mailbox.email_address.lower()}
    if "@" in (mailbox.username or ""):
        found.add(mailbox.username.lower())
    return found


def incoming(email: Email) -> rules.Incoming:
    return rules.Incoming(
        headers=[(str(pair[0]), str(pair[1])) for pair in email.headers if len(pair) == 2],
        from_name=email.from_name, from_address=email.from_address, reply_to=email.reply_to, to=email.to,
        cc=email.cc, subject=email.subject, body=email.body_text,
    )


def _when(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%a, %d %b %Y %H:%M") if moment is not None else ""


def placeholder_values(email: Email, mailbox: Mailbox) -> dict[str, str]:
    return {
        "sender_name": email.from_name or email.from_address,
        "subject": rules.one_line(email.subject),
        "date": _when(email.sent_at or email.received_at),
        "mailbox_label": mailbox.label,
    }


def build_reply(rule: Rule, email: Email, recipient: rules.Pair) -> actions.Reply:
    values = placeholder_values(email, rule.mailbox)
    subject = rules.render(rule.subject_template, values) if rule.subject_template.strip() else ""
    return actions.Reply(
        recipient=recipient,
        subject=rules.one_line(subject or reply_subject(rules.one_line(email.subject))),
        body=rules.render(rule.body_template, values),
        sender=email.from_address.strip().lower(),
        day=timezone.localdate(),
    )


def _answer(rule: Rule, email: Email, own: set[str]) -> int | None:
    decision = rules.decide(incoming(email), rule.condition_list, own_addresses=own,
                            is_our_answer=queries.is_our_answer(email.message_id))
    if not decision.answer or decision.recipient is None:
        logger.debug("Autoresponse rule %s does not answer email %s: %s", rule.pk, email.pk, decision.reason)
        return None
    message = actions.answer_email(rule, email, build_reply(rule, email, decision.recipient))
    if message is None:
        logger.info("Autoresponse rule %s did not answer email %s: its sender was answered today, or it was "
                    "answered already", rule.pk, email.pk)
        return None
    logger.info("Autoresponse rule %s answered email %s (outbox message %s)", rule.pk, email.pk, message.pk)
    return message.pk


def answer_new_mail(mailbox_id: int, *, batch: int = BATCH) -> list[int]:
    """Look at the mail past each enabled rule's high-water mark and queue the answers; returns the
    ids of the outbox messages queued (the caller hands them to the outbox's worker)."""
    queued: list[int] = []
    for rule in queries.answering_rules(mailbox_id):
        own = own_addresses(rule.mailbox)
        while True:
            emails = queries.mail_after(rule, limit=batch)
            for email, answerable in emails:
                if not answerable:
                    continue  # not in the INBOX, or there before the rule was enabled
                try:
                    message_id = _answer(rule, email, own)
                except Exception:
                    # One email that cannot be answered (a bug, an odd header) must not stop the
                    # answers to every later one: it is passed over, and the traceback logged.
                    logger.exception("Autoresponse rule %s could not answer email %s", rule.pk, email.pk)
                    continue
                if message_id is not None:
                    queued.append(message_id)
            if emails:
                actions.advance_rule(rule, emails[-1][0].pk)
            if len(emails) < batch:
                break
    return queued
