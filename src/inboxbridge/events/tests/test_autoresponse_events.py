"""autoresponse.sent against real Postfix and Dovecot: mail that a system mailbox's rule answers is
one event when the sync queues the answer, naming the rule, the email answered and the outbox
message; the same sender again that day, or mail the rule does not match, records nothing; and an
answer whose transaction rolls back has no event."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.autoresponse import actions
from inboxbridge.autoresponse.models import Answer
from inboxbridge.autoresponse.tests.helpers import add_rule, inbox, person, sync, system_mailbox
from inboxbridge.events.models import EventType
from inboxbridge.events.tests.helpers import assert_no_secret_in_events, recorded
from inboxbridge.mail.models import Email
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sync.tests.helpers import make_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.mailserver
def test_an_answer_the_sync_queues_is_one_autoresponse_sent(mail_stack, identity, admin_user, settings):
    settings.CA_BUNDLE = str(identity.ca_file)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    help_desk = system_mailbox(mail_stack, "Help Desk")
    rule = add_rule(admin_user, help_desk, conditions=[{"field": "subject", "operator": "contains",
                                                        "value": "printer"}])
    carol = person(mail_stack, "carol")
    for subject in ("Printer on fire", "Lunch?"):
        mail_stack.deliver(make_message(subject, sender=f"Carol <{carol}>", to=help_desk.email_address),
                           to=help_desk.email_address, sender=carol)

    assert sync(help_desk) == 2  # the runner answers the new mail

    answered = Email.objects.get(mailbox=help_desk, subject="Printer on fire")
    outgoing = OutgoingMessage.objects.get()
    assert recorded(EventType.AUTORESPONSE_SENT) == [{
        "mailbox_id": help_desk.pk, "rule_id": rule.pk, "email_id": answered.pk, "outgoing_id": outgoing.pk,
        "recipient": carol, "subject": "Re: Printer on fire"}]
    assert outgoing.subject == "Re: Printer on fire" and Answer.objects.get().outgoing == outgoing
    assert len(inbox(mail_stack, carol, expect=1)) == 1  # and the answer did go out
    assert_no_secret_in_events({help_desk.password})

    # Carol again the same day: no second answer, no second event.
    mail_stack.deliver(make_message("Printer still on fire", sender=f"Carol <{carol}>", to=help_desk.email_address),
                       to=help_desk.email_address, sender=carol)
    assert sync(help_desk) == 1
    assert len(recorded(EventType.AUTORESPONSE_SENT)) == 1


def test_no_autoresponse_sent_when_the_answers_transaction_rolls_back(admin_user):
    help_desk = make_mailbox(None, label="Help Desk")
    rule = add_rule(admin_user, help_desk)
    email = Email.objects.create(mailbox=help_desk, message_key="k1", subject="Printer on fire",
                                 from_address="carol@example.test")
    reply = actions.Reply(recipient=("Carol", "carol@example.test"), subject="Re: Printer on fire", body="Noted.",
                          sender="carol@example.test", day=timezone.localdate())

    with pytest.raises(RuntimeError), transaction.atomic():
        assert actions.answer_email(rule, email, reply) is not None
        assert len(recorded(EventType.AUTORESPONSE_SENT)) == 1
        raise RuntimeError("the task's transaction fails after queuing the answer")

    assert not OutgoingMessage.objects.exists() and not Answer.objects.exists()
    assert recorded(EventType.AUTORESPONSE_SENT) == []
    # Committed, the same answer has its event, and a second attempt at it none.
    assert actions.answer_email(rule, email, reply) is not None
    assert actions.answer_email(rule, email, reply) is None
    assert [e["email_id"] for e in recorded(EventType.AUTORESPONSE_SENT)] == [email.pk]
