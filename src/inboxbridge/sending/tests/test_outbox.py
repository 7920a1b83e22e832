"""The outbox's own logic with stand-in servers: claiming, the per-mailbox rate limit, backoff,
permanent failures, the scheduler's hand-out, and the Sent copy never failing a send."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.imap import ImapError
from inboxbridge.mailserver.smtp import SmtpError
from inboxbridge.sending import actions, tasks
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import FakeServers, queue

pytestmark = pytest.mark.django_db


def reload(message: OutgoingMessage) -> OutgoingMessage:
    return OutgoingMessage.objects.get(pk=message.pk)


def test_a_queued_message_is_sent_once_with_the_mailbox_as_envelope_sender(other_mailbox, servers: FakeServers):
    message = queue(other_mailbox, to="a@example.test, B <b@example.test>", cc="c@example.test",
                    bcc="hidden@example.test, A@example.test")
    assert send_outgoing_message.call(message.pk) == "sent"
    assert send_outgoing_message.call(message.pk) == "skipped"  # a duplicate task does nothing
    [(sender, recipients, data)] = servers.sent
    assert sender == "writer@example.test"
    assert recipients == ["a@example.test", "b@example.test", "c@example.test", "hidden@example.test"]
    assert data == bytes(reload(message).mime) and b"hidden@example.test" not in data
    [(folder, copy, flags)] = servers.copies
    assert folder == "Sent Items" and flags == ("\\Seen",) and copy.startswith(b"Bcc: hidden@example.test, ")
    message = reload(message)
    assert (message.state, message.attempts, message.sent_copy) == ("sent", 1, "saved")


def test_the_thirty_first_message_in_a_minute_waits(other_mailbox, servers: FakeServers):
    now = timezone.now()
    for n in range(actions.RATE_LIMIT):
        earlier = queue(other_mailbox, to="a@example.test", subject=f"Earlier {n}")
        OutgoingMessage.objects.filter(pk=earlier.pk).update(
            state="sent", last_attempt_at=now - timedelta(seconds=50 - n), sent_at=now
        )
    message = queue(other_mailbox, to="a@example.test", subject="One too many")

    assert send_outgoing_message.call(message.pk) == "rate-limited"

    assert servers.sent == []
    message = reload(message)
    assert message.state == "queued" and message.attempts == 0
    oldest = now - timedelta(seconds=50)
    assert message.next_attempt_at == oldest + actions.RATE_WINDOW
    task = DBTaskResult.objects.get(args_kwargs__args=[message.pk])
    assert task.run_after == message.next_attempt_at  # woken up exactly when a slot frees
    # Another mailbox is not held back by this one's sends.
    other = Mailbox.objects.create(owner=None, label="Shared", email_address="shared@example.test",
                                   smtp_host="smtp.invalid", account_type=Mailbox.AccountType.OTHER)
    assert send_outgoing_message.call(queue_for(other).pk) == "sent"
    # Once the window moved on, it goes.
    OutgoingMessage.objects.filter(mailbox=other_mailbox, state="sent").update(
        last_attempt_at=now - timedelta(minutes=2))
    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert send_outgoing_message.call(message.pk) == "sent"


def queue_for(mailbox: Mailbox) -> OutgoingMessage:
    from django.contrib.auth.models import User

    author = User.objects.create_user(f"author-{mailbox.pk}")
    return actions.queue_message(author, actions.Draft(mailbox, [("", "x@example.test")], [], [], "Hi", "Hi"))


def test_a_transient_error_retries_later_with_a_growing_delay(other_mailbox, servers: FakeServers):
    servers.errors = [SmtpError("421 4.3.2 Service not available, closing transmission channel")] * 2
    message = queue(other_mailbox, to="a@example.test")

    before = timezone.now()
    assert send_outgoing_message.call(message.pk) == "retry"
    message = reload(message)
    assert (message.state, message.attempts) == ("queued", 1)
    assert "421 4.3.2" in message.last_error
    assert before + timedelta(seconds=59) < message.next_attempt_at < timezone.now() + timedelta(seconds=61)
    assert DBTaskResult.objects.get(args_kwargs__args=[message.pk]).run_after == message.next_attempt_at
    assert send_outgoing_message.call(message.pk) == "skipped"  # not due yet: an early task does nothing

    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert send_outgoing_message.call(message.pk) == "retry"
    message = reload(message)
    assert message.attempts == 2 and message.next_attempt_at > timezone.now() + timedelta(seconds=110)

    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert send_outgoing_message.call(message.pk) == "sent"
    assert (reload(message).state, reload(message).last_error) == ("sent", "")
    assert [actions.retry_delay(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [60, 120, 240, 3600, 3600, 3600]


def test_after_the_last_attempt_the_message_fails(other_mailbox, servers: FakeServers):
    servers.errors = [SmtpError("Could not connect to smtp.invalid:587: Connection refused")]
    message = queue(other_mailbox, to="a@example.test")
    OutgoingMessage.objects.filter(pk=message.pk).update(attempts=actions.MAX_ATTEMPTS - 1)
    assert send_outgoing_message.call(message.pk) == "failed"
    message = reload(message)
    assert message.state == "failed" and message.can_retry
    assert message.last_error.startswith(f"Gave up after {actions.MAX_ATTEMPTS} attempts. Could not connect")


def test_a_permanent_refusal_fails_at_once(other_mailbox, servers: FakeServers):
    servers.errors = [SmtpError("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", permanent=True)]
    message = queue(other_mailbox, to="nobody@example.test")
    assert send_outgoing_message.call(message.pk) == "failed"
    message = reload(message)
    assert message.attempts == 1 and "550 5.1.10" in message.last_error and message.state == "failed"
    assert not DBTaskResult.objects.filter(args_kwargs__args=[message.pk]).exists()


def test_a_refused_password_is_not_refreshed_and_says_where_to_fix_it(other_mailbox, servers: FakeServers):
    servers.errors = [SmtpError("Authentication failed: 535 5.7.8 Error: authentication failed",
                                auth_failed=True, permanent=True)]
    message = queue(other_mailbox, to="a@example.test")
    assert send_outgoing_message.call(message.pk) == "failed"
    assert servers.logins == [False]
    assert "Email Configuration" in reload(message).last_error


def test_an_office365_token_refusal_gets_one_refreshed_retry(other_mailbox, servers: FakeServers):
    Mailbox.objects.filter(pk=other_mailbox.pk).update(account_type=Mailbox.AccountType.OFFICE365)
    servers.errors = [SmtpError("Authentication failed: 535 5.7.3 Authentication unsuccessful", auth_failed=True,
                                permanent=True)]
    message = queue(other_mailbox, to="a@example.test")
    assert send_outgoing_message.call(message.pk) == "sent"
    assert servers.logins[:2] == [False, True] and len(servers.sent) == 1


def test_no_secret_reaches_the_outbox(other_mailbox, servers: FakeServers):
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ1cG4iOiJ3cml0ZXJAZXhhbXBsZS50ZXN0In0.c2lnbmF0dXJlc2lnbmF0dXJl"
    servers.errors = [SmtpError(f"451 4.7.0 Temporary server error for {token}")]
    message = queue(other_mailbox, to="a@example.test")
    send_outgoing_message.call(message.pk)
    assert token not in reload(message).last_error and "[redacted]" in reload(message).last_error


def test_a_disconnected_mailbox_fails_the_message_with_what_to_do(other_mailbox, servers: FakeServers):
    message = queue(other_mailbox, to="a@example.test")
    Mailbox.objects.filter(pk=other_mailbox.pk).update(active=False)
    assert send_outgoing_message.call(message.pk) == "failed"
    assert servers.sent == [] and "was disconnected" in reload(message).last_error


def test_a_failed_copy_does_not_fail_the_send(other_mailbox, servers: FakeServers):
    servers.copy_error = ImapError("APPEND Sent Items: NO [OVERQUOTA] Quota exceeded")
    message = queue(other_mailbox, to="a@example.test")
    assert send_outgoing_message.call(message.pk) == "sent"
    message = reload(message)
    assert message.state == "sent" and message.sent_copy == "failed" and "Quota exceeded" in message.sent_copy_error


def test_without_a_sent_folder_the_copy_is_recorded_as_missing(other_mailbox, servers: FakeServers):
    other_mailbox.folders.filter(name="Sent Items").update(name="Archive", special_use="\\Archive")
    message = queue(other_mailbox, to="a@example.test")
    assert send_outgoing_message.call(message.pk) == "sent"
    assert "No Sent folder" in reload(message).sent_copy_error and servers.copies == []


def test_the_scheduler_hands_out_what_no_task_will_run(other_mailbox, servers: FakeServers):
    message = queue(other_mailbox, to="a@example.test")
    # Just queued: its task is on the way (enqueued on commit), nothing to hand out.
    assert actions.due_outgoing_messages() == []
    OutgoingMessage.objects.filter(pk=message.pk).update(task_due_at=timezone.now() - actions.DISPATCH_GRACE)
    assert actions.due_outgoing_messages() == [message.pk]
    assert actions.due_outgoing_messages() == []  # handed out once per grace period
    # Not due yet (a retry waiting): left alone however old its task is.
    OutgoingMessage.objects.filter(pk=message.pk).update(
        task_due_at=None, next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert actions.due_outgoing_messages() == []


def test_without_deferred_tasks_the_retry_is_left_to_the_scheduler(other_mailbox, servers: FakeServers,
                                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(send_outgoing_message.get_backend(), "supports_defer", False)
    servers.errors = [SmtpError("421 4.3.2 Try again later")]
    message = queue(other_mailbox, to="a@example.test")
    assert send_outgoing_message.call(message.pk) == "retry"
    assert not DBTaskResult.objects.exists() and reload(message).task_due_at is None
    assert actions.due_outgoing_messages() == []
    OutgoingMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert tasks.enqueue_due_outgoing_messages() == 1
    assert DBTaskResult.objects.filter(args_kwargs__args=[message.pk]).count() == 1


def test_every_scheduler_tick_hands_out_due_outbox_messages(other_mailbox, servers: FakeServers):
    from inboxbridge.jobs.scheduler import tick

    message = queue(other_mailbox, to="a@example.test")
    OutgoingMessage.objects.filter(pk=message.pk).update(task_due_at=None, next_attempt_at=timezone.now())
    DBTaskResult.objects.all().delete()
    tick()
    sends = DBTaskResult.objects.filter(task_path__endswith="send_outgoing_message", args_kwargs__args=[message.pk])
    assert sends.count() == 1


def test_a_cancelled_message_is_never_sent(other_mailbox, servers: FakeServers):
    message = queue(other_mailbox, to="a@example.test", subject="Second thoughts")
    assert actions.cancel_message(message)
    assert send_outgoing_message.call(message.pk) == "skipped"  # the task already on its way
    assert servers.sent == [] and servers.copies == []
    assert reload(message).state == "cancelled"
    assert tasks.enqueue_due_outgoing_messages() == 0  # and the scheduler does not hand it out
    assert not actions.cancel_message(message)  # cancelling twice changes nothing


def test_a_message_being_sent_cannot_be_cancelled_and_goes_out(other_mailbox, servers: FakeServers):
    message = queue(other_mailbox, to="a@example.test", subject="Too late")
    claim = actions.claim_outgoing_message(message.pk)
    assert claim.message is not None
    assert not actions.cancel_message(message)
    assert reload(message).state == "sending"


def test_a_message_cancelled_after_its_claim_ran_out_but_sent_says_sent(other_mailbox, servers: FakeServers):
    message = queue(other_mailbox, to="a@example.test", subject="Slow send")
    claim = actions.claim_outgoing_message(message.pk)
    assert claim.message is not None
    # The worker is slow: its claim runs out, the row is queued again, and the user cancels it...
    OutgoingMessage.objects.filter(pk=message.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    actions.due_outgoing_messages()
    assert actions.cancel_message(message)
    # ...then the worker's send completes: the server has it, so the outbox must say "sent".
    actions.record_sent(claim.message)
    assert reload(message).state == "sent"


def test_a_copy_left_by_a_stopped_worker_is_saved_once_later(other_mailbox, servers: FakeServers):
    from inboxbridge.sending.tasks import save_sent_copy

    message = queue(other_mailbox, to="a@example.test", subject="Crash after send")
    claim = actions.claim_outgoing_message(message.pk)
    assert claim.message is not None
    actions.record_sent(claim.message)  # ...and the worker stops before saving the copy
    assert reload(message).sent_copy == "pending"
    assert actions.due_sent_copies() == []  # the sending worker may still be saving it
    OutgoingMessage.objects.filter(pk=message.pk).update(copy_due_at=timezone.now() - timedelta(seconds=1))
    DBTaskResult.objects.all().delete()

    assert tasks.enqueue_due_outgoing_messages() == 0  # no message to send...
    [task] = DBTaskResult.objects.all()  # ...but its copy handed out, once
    assert task.task_path == "inboxbridge.sending.tasks.save_sent_copy" and task.args_kwargs["args"] == [message.pk]
    assert actions.due_sent_copies() == []
    assert save_sent_copy.call(message.pk) == "saved"
    assert save_sent_copy.call(message.pk) == "skipped"  # a duplicate task saves nothing more
    [(folder, _data, flags)] = servers.copies
    assert folder == "Sent Items" and flags == ("\\Seen",)
    message = reload(message)
    assert (message.sent_copy, message.copy_due_at) == ("saved", None)
    assert servers.sent == []  # the message itself is not sent again


def test_a_failed_copy_is_saved_again_when_asked(other_mailbox, servers: FakeServers,
                                                 django_capture_on_commit_callbacks):
    from inboxbridge.sending.tasks import save_sent_copy

    servers.copy_error = ImapError("APPEND Sent Items: NO [OVERQUOTA] Quota exceeded")
    message = queue(other_mailbox, to="a@example.test")
    assert send_outgoing_message.call(message.pk) == "sent"
    message = reload(message)
    assert message.can_save_copy_again and actions.due_sent_copies() == []  # not retried by itself
    servers.copy_error = None
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.save_copy_again(message)
        tasks.save_copy_on_commit(message.pk)  # as the Save copy button does
    assert not actions.save_copy_again(message)  # already on its way
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "inboxbridge.sending.tasks.save_sent_copy"
    assert save_sent_copy.call(message.pk) == "saved"
    assert len(servers.copies) == 1 and reload(message).sent_copy == "saved"
