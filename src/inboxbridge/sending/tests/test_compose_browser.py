"""In Chromium: write with the editor, attach two files, watch the draft save itself, save it, reload,
send; the recipient gets the HTML, its text alternative and both files intact. A message written
from a system mailbox the writer may use goes out from its address. And a line break smuggled into
each header field is refused with a message."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.management import call_command
from tests.factories import make_mailbox

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import actions
from inboxbridge.sending.models import OutgoingMessage, SavedDraft
from inboxbridge.sending.tests.helpers import new_recipient, wait_for_messages
from inboxbridge.sending.tests.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]

MINUTES = b"%PDF-1.4 minutes of the board\n" * 300
BUDGET = bytes(range(256)) * 100


def test_write_attach_save_reload_and_send(browser_context, live_server, connect_office365_mailbox, mail_settings,
                                           django_user_model, tmp_path):
    owner = django_user_model.objects.create_user("hana", "hana@example.test", "hana-password-1")
    connect_office365_mailbox(owner=owner)
    to = new_recipient(mail_settings, "ida")
    (tmp_path / "minutes.pdf").write_bytes(MINUTES)
    (tmp_path / "budget.xlsx").write_bytes(BUDGET)

    page = sign_in(browser_context, live_server, "hana", "hana-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.wait_for_selector("#editor")
    assert not page.is_visible("#id_body")  # the editor replaces the plain text box
    page.fill("#id_to", to)
    page.fill("#id_subject", "Board pack")
    page.click("#editor")
    page.keyboard.press("Control+Home")
    page.click("#editor-toolbar [data-command=bold]")
    page.keyboard.type("Agenda")
    page.click("#editor-toolbar [data-command=bold]")
    page.keyboard.type(" and the files are attached.")
    # Saved by itself within seconds; the page's address becomes the draft's.
    page.wait_for_selector("#draft-status:has-text('Draft saved')", timeout=15_000)
    saved = SavedDraft.objects.get()
    assert page.url.endswith(f"/drafts/{saved.pk}/") and saved.subject == "Board pack"
    assert "<b>Agenda</b>" in saved.body_html

    page.set_input_files("#id_attach", [str(tmp_path / "minutes.pdf"), str(tmp_path / "budget.xlsx")])
    page.click("#save-draft-button")
    page.wait_for_selector(".messages:has-text('Draft saved')")
    page.reload()  # as after closing the tab: everything comes back from the draft
    assert page.input_value("#id_subject") == "Board pack"
    assert "Agenda" in page.inner_text("#editor b")
    listed = page.inner_text("#row-keep_upload")
    assert "minutes.pdf" in listed and "budget.xlsx" in listed
    assert page.locator("#row-keep_upload input:checked").count() == 2
    assert SavedDraft.objects.count() == 1

    page.click("#send-button")
    page.wait_for_selector("#outbox")
    call_command("db_worker", "--batch", verbosity=0)
    assert OutgoingMessage.objects.get().state == "sent" and not SavedDraft.objects.exists()

    [(received, _flags)] = wait_for_messages(mail_settings, to)
    html = received.get_body(("html",)).get_content()
    text = received.get_body(("plain",)).get_content()
    assert "<b>Agenda</b> and the files are attached." in html
    assert "Agenda and the files are attached." in text
    files = {part.get_filename(): hashlib.sha256(part.get_content()).hexdigest()
             for part in received.iter_attachments()}
    assert files == {"minutes.pdf": hashlib.sha256(MINUTES).hexdigest(),
                     "budget.xlsx": hashlib.sha256(BUDGET).hexdigest()}


@pytest.mark.parametrize(("field", "message"), [
    ("to", "Not an email address"), ("cc", "Not an email address"), ("bcc", "Not an email address"),
    ("subject", "The subject must be a single line."),
])
def test_a_line_break_smuggled_into_a_header_field_is_refused(browser_context, live_server, connect_office365_mailbox,
                                                             mail_settings, django_user_model, field, message):
    owner = django_user_model.objects.create_user("jon", "jon@example.test", "jon-password-1")
    connect_office365_mailbox(owner=owner)
    page = sign_in(browser_context, live_server, "jon", "jon-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.wait_for_selector("#editor")
    page.fill("#id_to", "kim@example.test")
    page.fill("#id_subject", "Hello")
    # A text box drops line breaks, so the attacker's page would post them another way: a textarea.
    page.evaluate("""(name) => {
        const input = document.getElementById('id_' + name);
        const area = document.createElement('textarea');
        area.name = input.name; area.id = input.id;
        input.replaceWith(area);
    }""", field)
    page.fill(f"#id_{field}", "kim@example.test\nBcc: victim@example.test")
    page.click("#send-button")
    page.wait_for_selector(f"#row-{field} .field-error")
    assert re.search(message, page.inner_text(f"#row-{field} .field-error"))
    assert not OutgoingMessage.objects.exists()


def test_the_signature_follows_the_from_choice(browser_context, live_server, connect_office365_mailbox, mail_settings,
                                               django_user_model):
    owner = django_user_model.objects.create_user("lea", "lea@example.test", "lea-password-1")
    own = connect_office365_mailbox(owner=owner)
    help_desk = make_mailbox(None, label="Help Desk")
    help_desk.authorized_users.add(owner)
    actions.save_signature(text="Lea Martin\nSales", user=owner)
    actions.save_signature(text="The Help Desk team", mailbox=help_desk)

    page = sign_in(browser_context, live_server, "lea", "lea-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.wait_for_selector("#editor .signature")
    assert page.input_value("#id_mailbox") == str(own.pk)
    assert "Lea Martin" in page.inner_text("#editor .signature")
    page.select_option("#id_mailbox", str(help_desk.pk))
    assert "The Help Desk team" in page.inner_text("#editor .signature")
    assert "Lea Martin" not in page.inner_text("#editor")
    page.select_option("#id_mailbox", str(own.pk))
    assert "Lea Martin" in page.inner_text("#editor .signature") and "Help Desk" not in page.inner_text("#editor")


def test_a_message_written_from_a_system_mailbox_goes_out_from_its_address(
        browser_context, live_server, connect_office365_mailbox, mail_settings, django_user_model):
    writer = django_user_model.objects.create_user("max", "max@example.test", "max-password-1")
    connect_office365_mailbox(owner=writer)
    # A system mailbox connected as its own account (the first of the three ways), which Max may use.
    help_desk = connect_office365_mailbox()
    Mailbox.objects.filter(pk=help_desk.pk).update(owner=None, label="Help Desk")
    help_desk.authorized_users.add(writer)
    to = new_recipient(mail_settings, "jon")

    page = sign_in(browser_context, live_server, "max", "max-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.wait_for_selector("#editor")
    assert f"Help Desk <{help_desk.email_address}>" in page.inner_text("#id_mailbox")
    page.select_option("#id_mailbox", str(help_desk.pk))
    page.fill("#id_to", to)
    page.fill("#id_subject", "Your ticket")
    page.click("#editor")
    page.keyboard.type("We are on it.")
    page.click("#send-button")
    page.wait_for_selector("#outbox")
    call_command("db_worker", "--batch", verbosity=0)

    sent = OutgoingMessage.objects.get()
    assert sent.state == "sent" and sent.mailbox_id == help_desk.pk
    [(received, _flags)] = wait_for_messages(mail_settings, to)
    assert help_desk.email_address in received["From"] and received["Subject"] == "Your ticket"
    assert "We are on it." in received.get_body(("plain",)).get_content()
