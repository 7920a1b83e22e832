"""The email backend sends Django's mail through a system mailbox: an Office 365 one over XOAUTH2
and an Other one with its password, through the local Postfix into Dovecot; a refusal says what to
do and never shows the credential."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage, get_connection, send_mail

from inboxbridge.notifications import actions
from inboxbridge.notifications.tests.helpers import postfix_saw
from inboxbridge.sending.email_backend import BACKEND_PATH, ApplicationEmailError, chosen_address
from inboxbridge.sending.tests.helpers import new_recipient, wait_for_messages

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


def test_mail_goes_out_through_an_office365_system_mailbox_with_xoauth2(office365_sender, mail_settings):
    recipient = new_recipient(mail_settings, "reader")

    assert send_mail("Weekly report", "All mailboxes synced.", None, [recipient]) == 1

    [(received, _flags)] = wait_for_messages(mail_settings, recipient)
    assert received["Subject"] == "Weekly report"
    assert received["From"].addresses[0].addr_spec == office365_sender.email_address
    assert "All mailboxes synced." in received.get_content()
    assert received["Message-ID"].endswith(f"@{mail_settings.domain}>")
    assert postfix_saw(mail_settings, "XOAUTH2", office365_sender.email_address)


def test_mail_goes_out_through_an_other_system_mailbox_chosen_on_the_page(other_system_mailbox, mail_settings,
                                                                         admin_user, settings):
    settings.EMAIL_BACKEND = BACKEND_PATH
    settings.APPLICATION_EMAIL_MAILBOX = ""
    actions.choose_application_mailbox(admin_user, other_system_mailbox.email_address)
    recipient = new_recipient(mail_settings, "reader")
    message = EmailMessage("Hello", "From the application.", "Someone Else <other@elsewhere.test>", [recipient])

    assert get_connection().send_messages([message]) == 1

    [(received, _flags)] = wait_for_messages(mail_settings, recipient)
    # Always from the mailbox (a server refuses another sender), keeping the name asked for.
    assert received["From"].addresses[0].addr_spec == other_system_mailbox.email_address
    assert received["From"].addresses[0].display_name == "Someone Else"
    assert postfix_saw(mail_settings, "PLAIN", other_system_mailbox.email_address)


def test_a_refused_password_says_so_without_the_password(other_system_mailbox, mail_settings, settings):
    settings.EMAIL_BACKEND = BACKEND_PATH
    settings.APPLICATION_EMAIL_MAILBOX = other_system_mailbox.email_address
    other_system_mailbox.password = "wrong-password-42"
    other_system_mailbox.save()
    recipient = new_recipient(mail_settings, "reader")

    with pytest.raises(ApplicationEmailError) as refused:
        send_mail("Hello", "Body", None, [recipient])
    text = str(refused.value)
    assert f"could not be sent through {other_system_mailbox.email_address}" in text
    assert "refused its login" in text and "wrong-password-42" not in text
    # fail_silently: nothing raised, nothing sent.
    assert send_mail("Hello", "Body", None, [recipient], fail_silently=True) == 0


@pytest.mark.django_db
def test_without_a_mailbox_nothing_is_sent_and_the_error_says_where_to_choose_one(settings):
    settings.EMAIL_BACKEND = BACKEND_PATH
    settings.APPLICATION_EMAIL_MAILBOX = ""
    with pytest.raises(ApplicationEmailError, match="Pick a system mailbox in System > Configuration"):
        send_mail("Hello", "Body", None, ["someone@example.test"])
    settings.APPLICATION_EMAIL_MAILBOX = "nobody@example.test"
    with pytest.raises(ApplicationEmailError) as refused:
        send_mail("Hello", "Body", None, ["someone@example.test"])
    assert "INBOXBRIDGE_EMAIL_MAILBOX names nobody@example.test, which is not a system mailbox in use" in str(
        refused.value)


@pytest.mark.django_db
def test_the_environment_wins_over_the_page(settings, admin_user):
    actions.choose_application_mailbox(admin_user, "page@example.test")
    settings.APPLICATION_EMAIL_MAILBOX = ""
    assert chosen_address() == "page@example.test"
    settings.APPLICATION_EMAIL_MAILBOX = "environment@example.test"
    assert chosen_address() == "environment@example.test"
