"""The Sent folder chosen in a mailbox's folder selection: a sent message's copy is filed there on
the mail server (Dovecot) instead of the \\Sent folder; the \\Sent folder is the preselected
choice, and a chosen folder that left the server gives way to it rather than losing the copy."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import actions
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import draft, new_recipient, wait_for_messages

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


@pytest.fixture
def boss(client, django_user_model):
    user = django_user_model.objects.create_user("boss", "boss@example.test", "pw-boss-1", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def desk(client, boss, mail_stack, identity, settings) -> Mailbox:
    """A system mailbox of type Other on Dovecot with a folder "Outgoing" besides Sent, its folders
    retrieved by the administrator."""
    settings.CA_BUNDLE = str(identity.ca_file)
    address = f"desk-{uuid.uuid4().hex[:8]}@example.test"
    password = mail_stack.add_user(address)
    imap = mail_stack.imap(address)
    assert imap.create('"Outgoing"')[0] == "OK"
    imap.logout()
    mailbox = make_mailbox(None, folders=(), email_address=address, username=address, password=password,
                           imap_host=mail_stack.host, imap_port=mail_stack.imaps_port, smtp_host=mail_stack.host,
                           smtp_port=mail_stack.submission_port, smtp_security="starttls")
    client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]))
    assert mailbox.folders.filter(name="Outgoing").exists()
    return mailbox


def choose_sent_folder(client, mailbox: Mailbox, name: str) -> str:
    inbox = mailbox.folders.get(name="INBOX")
    answer = client.post(reverse("mailbox-settings:system-mailbox-folders", args=[mailbox.pk]),
                         {"folders": [inbox.pk], "sync_start": "setup", "sent_folder": name}, follow=True)
    return answer.content.decode()


def send_one(stack, mailbox: Mailbox, author, subject: str) -> str:
    message = actions.queue_message(author, draft(mailbox, to=new_recipient(stack), subject=subject))
    assert send_outgoing_message.call(message.pk) == "sent"
    return f"<{message.message_id}>"


def test_the_copy_lands_in_the_chosen_folder(client, boss, desk, mail_stack):
    page = client.get(reverse("mailbox-settings:system-mailbox", args=[desk.pk])).content.decode()
    # The server's \Sent folder is the preselected choice.
    assert desk.folders.get(name="Sent").special_use == "\\Sent"
    assert '<option value="Sent" selected>Sent</option>' in page

    assert "Folder selection saved" in choose_sent_folder(client, desk, "Outgoing")
    desk.refresh_from_db()
    assert desk.sent_folder_name == "Outgoing"
    message_id = send_one(mail_stack, desk, boss, "Filed where chosen")

    [(copy, flags)] = wait_for_messages(mail_stack, desk.email_address, "Outgoing")
    assert copy["Message-ID"] == message_id and "\\Seen" in flags
    assert wait_for_messages(mail_stack, desk.email_address, "Sent", count=0) == []
    page = client.get(reverse("mailbox-settings:system-mailbox", args=[desk.pk])).content.decode()
    assert '<option value="Outgoing" selected>Outgoing</option>' in page


def test_a_chosen_folder_gone_from_the_server_gives_way_to_sent(client, boss, desk, mail_stack):
    choose_sent_folder(client, desk, "Outgoing")
    imap = mail_stack.imap(desk.email_address)
    assert imap.delete('"Outgoing"')[0] == "OK"
    imap.logout()
    client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[desk.pk]))

    message_id = send_one(mail_stack, Mailbox.objects.get(pk=desk.pk), boss, "Filed in Sent")
    [(copy, _flags)] = wait_for_messages(mail_stack, desk.email_address, "Sent")
    assert copy["Message-ID"] == message_id


def test_a_folder_not_on_the_list_is_refused(client, desk):
    answer = choose_sent_folder(client, desk, "Nowhere")
    assert "The folder selection was not saved. Sent folder: Select a valid choice." in answer
    desk.refresh_from_db()
    assert desk.sent_folder_name == ""
