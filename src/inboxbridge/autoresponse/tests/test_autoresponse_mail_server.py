"""Autoresponse against real Postfix and Dovecot: system mailboxes of account type Other answer the
mail that arrives in their INBOX through the outbox, once per sender per day, and never answer
automatic, bulk or list mail, their own mail, or each other's answers."""

from __future__ import annotations

import imaplib
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inboxbridge.autoresponse.actions import set_rule_enabled
from inboxbridge.autoresponse.models import Answer
from inboxbridge.autoresponse.tests.helpers import add_rule, inbox, person, sync, system_mailbox
from inboxbridge.mail.models import Email
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sync.tests.helpers import make_message

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _stack_settings(settings, mail_stack, identity):
    settings.CA_BUNDLE = str(identity.ca_file)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def admin(admin_user):
    return admin_user


def test_a_matching_message_gets_one_answer_and_its_sender_no_second_one_that_day(mail_stack, admin, client):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    carol = person(mail_stack, "carol")
    # Mail that was in the mailbox before the rule (delivered an hour ago, not synced yet): never answered.
    old = make_message("Printer on fire last week", sender=f"Carol <{carol}>", to=help_desk.email_address)
    backlog = mail_stack.imap(help_desk.email_address)
    backlog.append("INBOX", "", imaplib.Time2Internaldate(time.time() - 3600), old)
    backlog.logout()
    rule = add_rule(admin, help_desk, conditions=[{"field": "subject", "operator": "contains", "value": "printer"}],
                    body="Dear {sender_name},\n{mailbox_label} received “{subject}” ({date}).\n")

    original = make_message("Printer on fire", sender=f"Carol <{carol}>", to=help_desk.email_address,
                            message_id="first-original@fabrikam.test")
    mail_stack.deliver(original, to=help_desk.email_address, sender=carol)
    mail_stack.deliver(make_message("Lunch?", sender=f"Carol <{carol}>", to=help_desk.email_address),
                       to=help_desk.email_address, sender=carol)
    assert sync(help_desk) == 3

    answers = inbox(mail_stack, carol, expect=1)
    assert len(answers) == 1
    answer = answers[0]
    assert answer["Auto-Submitted"] == "auto-replied"
    assert answer["In-Reply-To"] == "<first-original@fabrikam.test>"
    assert "<first-original@fabrikam.test>" in answer["References"]
    assert answer["Subject"] == "Re: Printer on fire"
    assert answer["From"].addresses[0].addr_spec == help_desk.email_address
    assert answer["From"].addresses[0].display_name == "Help Desk"
    text = answer.get_content().replace("\r\n", "\n")
    assert text.startswith("Dear Carol,\nHelp Desk received “Printer on fire” (")
    assert "{" not in text
    sent = OutgoingMessage.objects.get()
    assert sent.state == OutgoingMessage.State.SENT and sent.author == admin and sent.mailbox == help_desk

    # The same sender again, the same day: no second answer.
    mail_stack.deliver(make_message("Printer still on fire", sender=f"Carol <{carol}>", to=help_desk.email_address),
                       to=help_desk.email_address, sender=carol)
    assert sync(help_desk) == 1
    assert OutgoingMessage.objects.count() == 1 and Answer.objects.count() == 1
    time.sleep(1)
    assert len(inbox(mail_stack, carol)) == 1

    # The rule's page lists the answer.
    client.force_login(admin)
    page = client.get(reverse("autoresponse:rule", args=[help_desk.pk, rule.pk])).content.decode()
    assert carol in page and "Printer on fire" in page and "Sent" in page


def test_automatic_bulk_list_and_own_mail_get_no_answer(mail_stack, admin):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    add_rule(admin, help_desk)
    senders = [person(mail_stack, name) for name in ("vacation", "newsletter", "listmember")]
    to = help_desk.email_address
    mail_stack.deliver(make_message("Out of office", sender=senders[0], to=to,
                                    headers={"Auto-Submitted": "auto-replied"}), to=to, sender=senders[0])
    mail_stack.deliver(make_message("Our offers", sender=senders[1], to=to, headers={"Precedence": "bulk"}),
                       to=to, sender=senders[1])
    mail_stack.deliver(make_message("Re: [list] topic", sender=senders[2], to=to,
                                    headers={"List-Id": "<topic.lists.example.test>"}), to=to, sender=senders[2])
    mail_stack.deliver(make_message("Note to self", sender=f"Help Desk <{to}>", to=to), to=to, sender=to)

    assert sync(help_desk) == 4
    assert Email.objects.filter(mailbox=help_desk).count() == 4
    assert not OutgoingMessage.objects.exists() and not Answer.objects.exists()
    time.sleep(1)
    assert [len(inbox(mail_stack, sender)) for sender in senders] == [0, 0, 0]
    assert len(inbox(mail_stack, to)) == 4  # no answer to itself either


def test_two_mailboxes_answering_each_other_do_not_loop(mail_stack, admin):
    sales = system_mailbox(mail_stack, "Sales")
    support = system_mailbox(mail_stack, "Support")
    add_rule(admin, sales)
    add_rule(admin, support)
    mail_stack.deliver(make_message("From sales", sender=f"Sales <{sales.email_address}>", to=support.email_address),
                       to=support.email_address, sender=sales.email_address)
    sync(support)
    inbox(mail_stack, sales.email_address, expect=1)
    # Support's answer is the first mail from support to sales today: only its being an automatic
    # answer keeps sales from answering it.
    sync(sales)
    assert Answer.objects.filter(rule__mailbox=support).count() == 1
    assert not Answer.objects.filter(rule__mailbox=sales).exists()

    mail_stack.deliver(make_message("From support", sender=f"Support <{support.email_address}>",
                                    to=sales.email_address), to=sales.email_address, sender=support.email_address)
    for _round in range(3):
        sync(sales)
        sync(support)
        inbox(mail_stack, sales.email_address, expect=2)
        inbox(mail_stack, support.email_address, expect=2)

    assert Answer.objects.filter(rule__mailbox=sales).count() == 1
    assert Answer.objects.filter(rule__mailbox=support).count() == 1
    assert OutgoingMessage.objects.count() == 2
    assert sorted(m["Subject"] for m in inbox(mail_stack, sales.email_address)) == ["From support", "Re: From sales"]
    assert sorted(m["Subject"] for m in inbox(mail_stack, support.email_address)) == ["From sales", "Re: From support"]


def test_a_rule_enabled_again_does_not_answer_what_came_while_it_was_disabled(mail_stack, admin):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    rule = add_rule(admin, help_desk)
    set_rule_enabled(admin, rule, False)
    carol = person(mail_stack, "carol")
    mail_stack.deliver(make_message("While off", sender=carol, to=help_desk.email_address),
                       to=help_desk.email_address, sender=carol)
    sync(help_desk)
    set_rule_enabled(admin, rule, True)
    assert rule.enabled_at is not None and rule.enabled_at > timezone.now() - timedelta(minutes=1)
    sync(help_desk)
    assert not OutgoingMessage.objects.exists()
    mail_stack.deliver(make_message("While on", sender=carol, to=help_desk.email_address),
                       to=help_desk.email_address, sender=carol)
    sync(help_desk)
    assert [message["Subject"] for message in inbox(mail_stack, carol, expect=1)] == ["Re: While on"]
