"""message.deleted against real Dovecot: a message expunged on the server is one event on the next
sync, with the ids a receiver needs; a message moved to another synced folder is not deleted; and
the event goes with the deletion when its transaction rolls back."""

from __future__ import annotations

import imaplib

import pytest
from django.db import transaction

from inboxbridge.autoresponse.tests.helpers import person, sync, system_mailbox
from inboxbridge.events.models import EventType
from inboxbridge.events.tests.helpers import assert_no_secret_in_events, mailbox_secrets, recorded
from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync import store
from inboxbridge.sync.tests.helpers import make_message, select_folders

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _stack_settings(settings, mail_stack, identity):
    settings.CA_BUNDLE = str(identity.ca_file)


def deliver(mail_stack, mailbox: Mailbox, *subjects: str) -> None:
    sender = person(mail_stack, "dave")
    for subject in subjects:
        mail_stack.deliver(make_message(subject, sender=f"Dave <{sender}>", to=mailbox.email_address),
                           to=mailbox.email_address, sender=sender)


def stored(mailbox: Mailbox, subject: str) -> Email:
    return Email.objects.get(mailbox=mailbox, subject=subject)


def on_server(mail_stack, mailbox: Mailbox) -> imaplib.IMAP4:
    client = mail_stack.imap(mailbox.email_address)
    client.sock.settimeout(20)
    typ, data = client.select('"INBOX"')
    assert typ == "OK", data
    return client


def uid_of(email: Email, folder: str = "INBOX") -> str:
    return str(Placement.objects.get(email=email, folder__name=folder).uid)


def test_a_message_expunged_on_the_server_is_one_deleted_event_on_the_next_sync(mail_stack):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    deliver(mail_stack, help_desk, "Keep me", "Delete me")
    assert sync(help_desk) == 2
    gone = stored(help_desk, "Delete me")
    assert recorded(EventType.MESSAGE_DELETED) == []

    client = on_server(mail_stack, help_desk)
    client.uid("STORE", uid_of(gone), "+FLAGS.SILENT", r"(\Deleted)")
    client.expunge()
    client.logout()
    sync(help_desk)

    assert not Email.objects.filter(pk=gone.pk).exists()
    assert recorded(EventType.MESSAGE_DELETED) == [
        {"mailbox_id": help_desk.pk, "email_id": gone.pk, "internet_message_id": gone.message_id}]
    assert gone.message_id  # the receiver can match it to what it stored from message.new
    assert_no_secret_in_events(mailbox_secrets(help_desk))

    # Nothing else changed on the server: the next sync records nothing more.
    sync(help_desk)
    assert len(recorded(EventType.MESSAGE_DELETED)) == 1


def test_a_message_moved_to_another_synced_folder_is_not_deleted(mail_stack):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    select_folders(help_desk, "INBOX", "Archive")
    deliver(mail_stack, help_desk, "File me")
    assert sync(help_desk) == 1
    filed = stored(help_desk, "File me")

    client = on_server(mail_stack, help_desk)
    typ, data = client.uid("MOVE", uid_of(filed), '"Archive"')
    assert typ == "OK", data
    client.logout()
    sync(help_desk)

    assert list(Placement.objects.filter(email=filed).values_list("folder__name", flat=True)) == ["Archive"]
    assert recorded(EventType.MESSAGE_DELETED) == []
    assert len(recorded(EventType.MESSAGE_NEW)) == 1  # the move is not a new message either


def test_no_deleted_event_when_the_deletion_rolls_back(mail_stack):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    deliver(mail_stack, help_desk, "Orphan")
    sync(help_desk)
    orphan = stored(help_desk, "Orphan")
    Placement.objects.filter(email=orphan).delete()  # what the sync does first for a message gone

    with pytest.raises(RuntimeError), transaction.atomic():
        assert store.delete_orphans([orphan.pk]) == 1
        assert len(recorded(EventType.MESSAGE_DELETED)) == 1  # written, inside the transaction
        raise RuntimeError("the transaction of the deletion fails")

    assert Email.objects.filter(pk=orphan.pk).exists()
    assert recorded(EventType.MESSAGE_DELETED) == []
    # Committed, the same deletion has its event.
    assert store.delete_orphans([orphan.pk]) == 1
    assert [e["email_id"] for e in recorded(EventType.MESSAGE_DELETED)] == [orphan.pk]
