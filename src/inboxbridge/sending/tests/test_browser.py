"""In Chromium: sign in, Compose from the main menu, Send, watch the Outbox go from Queued to Sent
once a worker ran; the recipient has the message and the sender a copy in Sent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from tests.browser import sign_in as sign_in_with_password

from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tests.helpers import fetch_all, new_recipient, wait_for_messages

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


def sign_in(browser_context, live_server, username: str, password: str):
    """A new page, signed in with a password, on My Emails."""
    page = browser_context.new_page()
    sign_in_with_password(page, live_server, username, password)
    return page


def write(page, text: str) -> None:
    """Type the message into Compose's editor, from its first line."""
    page.click("#editor")
    page.keyboard.press("Control+Home")
    page.keyboard.type(text)


def test_compose_and_send_in_the_browser(browser_context, live_server, connect_office365_mailbox, mail_settings,
                                         django_user_model):
    owner = django_user_model.objects.create_user("dana", "dana@example.test", "dana-password-1")
    mailbox = connect_office365_mailbox(owner=owner)
    to = new_recipient(mail_settings, "erin")

    page = sign_in(browser_context, live_server, "dana", "dana-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.wait_for_selector("#compose-form")
    assert page.input_value("#id_mailbox") == str(mailbox.pk)
    page.fill("#id_to", f"Erin <{to}>")
    page.fill("#id_subject", "Lunch on Friday?")
    write(page, "Hi Erin,\nlunch on Friday?\nDana")
    page.click("#send-button")
    page.wait_for_selector("#outbox")
    assert "is in the Outbox" in page.inner_text(".messages")
    assert page.inner_text("#outbox [data-state]") == "Queued"

    call_command("db_worker", "--batch", verbosity=0)

    page.reload()
    assert page.inner_text("#outbox [data-state]") == "Sent"
    page.click("#outbox a:has-text('Lunch on Friday?')")
    page.wait_for_selector("#outgoing-message")
    assert "A copy was saved in the Sent folder." in page.inner_text("#outgoing-message")

    [(received, _flags)] = wait_for_messages(mail_settings, to)
    outgoing = OutgoingMessage.objects.get()
    assert received["Subject"] == "Lunch on Friday?" and received["Message-ID"] == f"<{outgoing.message_id}>"
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.strip() == "Hi Erin,\nlunch on Friday?\nDana"
    assert len(wait_for_messages(mail_settings, mailbox.email_address, "Sent")) == 1


def test_cancel_before_a_worker_runs_and_nothing_is_sent(browser_context, live_server, connect_office365_mailbox,
                                                         mail_settings, django_user_model):
    owner = django_user_model.objects.create_user("fay", "fay@example.test", "fay-password-1")
    connect_office365_mailbox(owner=owner)
    to = new_recipient(mail_settings, "gil")

    page = sign_in(browser_context, live_server, "fay", "fay-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.fill("#id_to", to)
    page.fill("#id_subject", "Sent in anger")
    write(page, "On second thoughts, no.")
    page.click("#send-button")
    page.wait_for_selector("#outbox")
    page.click("#outbox a:has-text('Sent in anger')")
    page.click("#cancel-button")
    page.wait_for_selector("text=is cancelled and will not be sent.")
    assert page.inner_text("#outgoing-message [data-state]") == "Cancelled"

    call_command("db_worker", "--batch", verbosity=0)  # the task queued with the message

    assert OutgoingMessage.objects.get().state == "cancelled"
    [task] = DBTaskResult.objects.filter(task_path="inboxbridge.sending.tasks.send_outgoing_message")
    assert task.return_value == "skipped"  # no SMTP submission was made
    client = mail_settings.imap(to)
    try:
        assert fetch_all(client, "INBOX") == []
    finally:
        client.logout()
