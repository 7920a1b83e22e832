"""mailbox.sync_failed: a sync that Dovecot refuses (the password was changed on the server) is one
event per failed run, with the server's reason and the count of failures in a row, and no password;
a run that succeeds, or lost its mailbox to another worker, records none; nor does a release whose
transaction rolls back."""

from __future__ import annotations

import pytest
from django.db import transaction
from tests.factories import make_mailbox

from inboxbridge.autoresponse.tests.helpers import person, system_mailbox
from inboxbridge.events.models import EventType
from inboxbridge.events.tests.helpers import assert_no_secret_in_events, recorded
from inboxbridge.jobs import leases
from inboxbridge.jobs.policy import Outcome
from inboxbridge.jobs.runner import run_sync
from inboxbridge.mailboxes.actions import save_system_other_account
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.tests.helpers import make_message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.mailserver
def test_each_refused_sync_records_the_servers_reason_and_the_failures_in_a_row(mail_stack, identity, admin_user,
                                                                                 settings):
    settings.CA_BUNDLE = str(identity.ca_file)
    help_desk = system_mailbox(mail_stack, "Help Desk")
    old_password = help_desk.password
    sender = person(mail_stack, "erin")
    mail_stack.deliver(make_message("Hello", sender=sender, to=help_desk.email_address),
                       to=help_desk.email_address, sender=sender)
    assert run_sync(help_desk.pk, manual=True).outcome == "ok"
    assert recorded(EventType.MAILBOX_SYNC_FAILED) == []

    new_password = mail_stack.add_user(help_desk.email_address)  # changed on the mail server only
    first = run_sync(help_desk.pk, manual=True)
    second = run_sync(help_desk.pk, manual=True)

    assert first.outcome == second.outcome == "error"
    assert first.error == (f"The IMAP server refused the login of {help_desk.email_address}: "
                           "[AUTHENTICATIONFAILED] Authentication failed.")
    assert recorded(EventType.MAILBOX_SYNC_FAILED) == [
        {"mailbox_id": help_desk.pk, "error": first.error, "failure_count": 1},
        {"mailbox_id": help_desk.pk, "error": second.error, "failure_count": 2},
    ]
    assert Mailbox.objects.get(pk=help_desk.pk).failure_count == 2
    assert_no_secret_in_events({old_password, new_password})

    # The administrator types the new password: the next sync works and records no failure.
    save_system_other_account(admin_user, help_desk, password=new_password)
    assert run_sync(help_desk.pk, manual=True).outcome == "ok"
    assert len(recorded(EventType.MAILBOX_SYNC_FAILED)) == 2
    assert Mailbox.objects.get(pk=help_desk.pk).failure_count == 0
    # A new password for a mailbox that was not waiting for Reconnect is not a reconnection.
    assert recorded(EventType.MAILBOX_RECONNECTED) == []


def test_a_run_that_lost_its_mailbox_to_another_worker_records_no_failure():
    mailbox = make_mailbox()
    lease = leases.acquire(mailbox.pk, "worker-1", office365_enabled=False, due_only=False)
    assert lease is not None
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_owner="worker-2/abc")  # its lease ran out and was taken

    assert not leases.release(lease, Outcome(complete=False, error="IMAP connection reset"), leases.RunCounts())

    assert recorded(EventType.MAILBOX_SYNC_FAILED) == []
    assert Mailbox.objects.get(pk=mailbox.pk).failure_count == 0


def test_a_failure_whose_release_rolls_back_records_nothing():
    mailbox = make_mailbox()
    lease = leases.acquire(mailbox.pk, "worker-1", office365_enabled=False, due_only=False)
    assert lease is not None

    with pytest.raises(RuntimeError), transaction.atomic():
        assert leases.release(lease, Outcome(complete=False, error="IMAP connection reset"), leases.RunCounts())
        assert len(recorded(EventType.MAILBOX_SYNC_FAILED)) == 1
        raise RuntimeError("the database connection drops before the commit")

    assert recorded(EventType.MAILBOX_SYNC_FAILED) == []
    assert Mailbox.objects.get(pk=mailbox.pk).failure_count == 0
