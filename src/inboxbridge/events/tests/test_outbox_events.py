"""outbox.sent and outbox.failed through real Postfix: a message Postfix accepts is one outbox.sent,
one Postfix refuses (the mailbox's password was changed on the server) is one outbox.failed with
the reason the writer reads; a transient failure records nothing until the outbox gives up. An
administrator's endpoint receives outbox.sent signed on the scheduler's next tick. No event
carries the password, and a send whose record rolls back has none."""

from __future__ import annotations

import socket

import pytest
from django.db import transaction
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.autoresponse.tests.helpers import system_mailbox
from inboxbridge.events.models import EventType
from inboxbridge.events.tests.helpers import assert_no_secret_in_events, recorded
from inboxbridge.jobs.scheduler import tick
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import actions, delivery, tasks
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tests.helpers import draft, new_recipient, wait_for_messages
from inboxbridge.webhooks import actions as webhooks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def help_desk(mail_stack, identity, settings) -> Mailbox:
    """A system mailbox on the stack's Dovecot and Postfix; its outbox sends inline."""
    settings.CA_BUNDLE = str(identity.ca_file)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return system_mailbox(mail_stack, "Help Desk")


def send(author, mailbox: Mailbox, to: str, subject: str) -> OutgoingMessage:
    """Compose's path: queued, then handed to a worker on commit (which sends it inline here)."""
    message = actions.queue_message(author, draft(mailbox, to=f"Rita <{to}>", subject=subject))
    tasks.dispatch_on_commit(message.pk)
    return OutgoingMessage.objects.get(pk=message.pk)


def outbox_payload(message: OutgoingMessage, to: str) -> dict:
    return {"mailbox_id": message.mailbox_id, "outgoing_id": message.pk, "internet_message_id": message.message_id,
            "subject": message.subject, "to": [["Rita", to]]}


@pytest.mark.mailserver
def test_a_message_postfix_accepts_is_one_outbox_sent(mail_stack, help_desk, admin_user):
    rita = new_recipient(mail_stack, "rita")
    message = send(admin_user, help_desk, rita, "Your ticket 4711")

    assert message.state == OutgoingMessage.State.SENT
    assert len(wait_for_messages(mail_stack, rita)) == 1
    assert recorded(EventType.OUTBOX_SENT) == [
        {**outbox_payload(message, rita), "sent_at": message.sent_at.isoformat()}]
    assert recorded(EventType.OUTBOX_FAILED) == []
    assert_no_secret_in_events({help_desk.password})

    # A late duplicate of the record (a claim that ran out mid-send) adds nothing.
    actions.record_sent(message)
    assert len(recorded(EventType.OUTBOX_SENT)) == 1


@pytest.mark.mailserver
def test_a_message_postfix_refuses_is_one_outbox_failed_with_the_writers_reason(mail_stack, help_desk, admin_user):
    rita = new_recipient(mail_stack, "rita")
    new_password = mail_stack.add_user(help_desk.email_address)  # changed on the server, not here

    message = send(admin_user, help_desk, rita, "Your ticket 4712")

    assert message.state == OutgoingMessage.State.FAILED and message.attempts == 1
    assert "refused the login" in message.last_error and "535" in message.last_error
    # A system mailbox's settings are the administrators' page of it, not anyone's own configuration.
    assert (f"Check the user name and password in System > Configuration > Email Configuration > System Mailboxes > "
            f"{help_desk.email_address}, then click Retry.") in message.last_error
    assert recorded(EventType.OUTBOX_FAILED) == [{**outbox_payload(message, rita), "error": message.last_error}]
    assert recorded(EventType.OUTBOX_SENT) == []
    assert_no_secret_in_events({help_desk.password, new_password})


@pytest.mark.mailserver
def test_a_transient_failure_records_nothing_until_the_outbox_gives_up(mail_stack, help_desk, admin_user):
    with socket.socket() as probe:  # a port where nothing listens: Postfix is down
        probe.bind((mail_stack.host, 0))
        closed = probe.getsockname()[1]
    Mailbox.objects.filter(pk=help_desk.pk).update(smtp_port=closed)
    rita = new_recipient(mail_stack, "rita")

    message = send(admin_user, help_desk, rita, "Your ticket 4713")
    for _attempt in range(2, actions.MAX_ATTEMPTS):
        assert OutgoingMessage.objects.get(pk=message.pk).state == OutgoingMessage.State.QUEUED
        assert recorded(EventType.OUTBOX_FAILED) == []
        OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())  # its retry is due
        assert delivery.send_message(message.pk).outcome == "retry"

    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert delivery.send_message(message.pk).outcome == "failed"

    message = OutgoingMessage.objects.get(pk=message.pk)
    assert message.attempts == actions.MAX_ATTEMPTS
    [event] = recorded(EventType.OUTBOX_FAILED)
    assert event == {**outbox_payload(message, rita), "error": message.last_error[:500]}
    assert event["error"].startswith(f"Gave up after {actions.MAX_ATTEMPTS} attempts.")


@pytest.mark.mailserver
@pytest.mark.usefixtures("_private_allowed")
def test_an_endpoint_for_outbox_sent_receives_the_send_signed(mail_stack, help_desk, admin_user, receiver):
    created = webhooks.create_endpoint(admin_user, owner=None, url=receiver.url, events=["outbox.sent"],
                                       mailbox=help_desk)
    rita = new_recipient(mail_stack, "rita")
    message = send(admin_user, help_desk, rita, "Your ticket 4714")
    assert receiver.requests == []  # the send itself does not wait for webhooks

    tick()  # the scheduler's next tick hands the waiting event to the delivery task

    [delivered] = receiver.requests
    document = delivered.verify(created.secret)  # the Standard Webhooks library checks the signature
    assert document == {"type": "outbox.sent", "timestamp": document["timestamp"],
                        "data": {**outbox_payload(message, rita), "sent_at": message.sent_at.isoformat()}}
    tick()
    assert len(receiver.requests) == 1  # delivered once


def test_no_outbox_sent_when_the_record_of_the_send_rolls_back(admin_user):
    mailbox = make_mailbox(None)
    queued = actions.queue_message(admin_user, draft(mailbox, to="rita@example.test", subject="Rolled back"))
    claimed = actions.claim_outgoing_message(queued.pk).message
    assert claimed is not None

    with pytest.raises(RuntimeError), transaction.atomic():
        actions.record_sent(claimed)
        assert len(recorded(EventType.OUTBOX_SENT)) == 1
        raise RuntimeError("the database connection drops before the commit")

    assert OutgoingMessage.objects.get(pk=queued.pk).state == OutgoingMessage.State.SENDING
    assert recorded(EventType.OUTBOX_SENT) == []
