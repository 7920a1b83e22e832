"""An administrator adds an autoresponse rule to a system mailbox in Chromium; mail that then
arrives on the real mail server is answered, and the rule's page lists the answer."""

from __future__ import annotations

import pytest
from tests.browser import sign_in

from inboxbridge.autoresponse.tests.helpers import inbox, person, sync, system_mailbox
from inboxbridge.sync.tests.helpers import make_message

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_a_rule_and_new_mail_is_answered(browser_context, live_server, mail_stack, identity, settings,
                                                       django_user_model):
    settings.CA_BUNDLE = str(identity.ca_file)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    help_desk = system_mailbox(mail_stack, "Help Desk")
    carol = person(mail_stack, "carol")
    django_user_model.objects.create_user("boss", "boss@example.test", "boss-password-1", is_staff=True)

    page = browser_context.new_page()
    sign_in(page, live_server, "boss", "boss-password-1")
    page.goto(f"{live_server.url}/system/configuration/email-configuration/system-mailboxes/{help_desk.pk}/")
    page.click("#autoresponse-link a")
    page.click("#add-rule")
    page.fill("#id_name", "Printer trouble")
    page.select_option("#id_condition_0_field", "subject")
    page.select_option("#id_condition_0_operator", "starts_with")
    page.fill("#id_condition_0_value", "printer")
    page.fill("#id_subject_template", "We are on it: {subject}")
    page.fill("#id_body_template", "Hello {sender_name}, the {ticket} team")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector("#rule-form .field-error:has-text('Unknown placeholder {ticket}')")
    page.fill("#id_body_template", "Hello {sender_name}, {mailbox_label} is on it.")
    page.click("#rule-form button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Printer trouble saved')")

    mail_stack.deliver(make_message("Printer on fire", sender=f"Carol <{carol}>", to=help_desk.email_address),
                       to=help_desk.email_address, sender=carol)
    sync(help_desk)
    [answer] = inbox(mail_stack, carol, expect=1)
    assert answer["Subject"] == "We are on it: Printer on fire"
    assert answer.get_content().strip() == "Hello Carol, Help Desk is on it."

    page.reload()
    assert carol in page.inner_text("#last-answers") and "Printer on fire" in page.inner_text("#last-answers")
    page.click("a:has-text('Autoresponse Rules')")
    assert "Subject starts with “printer”" in page.inner_text("#autoresponse-rules")
