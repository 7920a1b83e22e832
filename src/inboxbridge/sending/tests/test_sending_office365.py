"""Sending from an Office 365 mailbox connected through the real OAuth flow, submitted over SMTP
XOAUTH2 to the local Postfix (which asks Dovecot to check the token) and delivered to another
Dovecot user; the copy goes to the sender's Sent folder over IMAP."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from inboxbridge.mail.tests.helpers import message as raw_message
from inboxbridge.mail.tests.helpers import store
from inboxbridge.mailboxes.actions import update_folders
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver import smtp
from inboxbridge.sending import actions, tasks
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import new_recipient, plant_access_token, queue, wait_for_messages

pytestmark = pytest.mark.mailserver


def postfix_saw_xoauth2(stack: Any, address: str) -> bool:
    """Postfix logs the SASL mechanism and user of every authenticated submission."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if f"sasl_method=XOAUTH2, sasl_username={address.lower()}" in stack.log():
            return True
        time.sleep(0.05)
    return False


def refreshes(identity: Any) -> int:
    return identity.count("token", "refresh_token")


@pytest.mark.django_db
def test_a_message_reaches_the_recipient_and_a_copy_lands_in_sent(connect_office365_mailbox, mail_settings):
    mailbox = connect_office365_mailbox()
    to, cc, hidden = (new_recipient(mail_settings, n) for n in ("to", "cc", "hidden"))
    outgoing = queue(mailbox, to=f"Tom Recipient <{to}>", cc=cc, bcc=hidden, subject="Quarterly numbers für Zürich",
                     body="Hello Tom,\n\nthe numbers are attached in spirit.\n")

    assert send_outgoing_message.call(outgoing.pk) == "sent"

    [(received, _flags)] = wait_for_messages(mail_settings, to)
    assert received["Subject"] == "Quarterly numbers für Zürich"
    assert received["From"].addresses[0].addr_spec == mailbox.email_address
    assert received["To"].addresses[0].addr_spec == to and received["To"].addresses[0].display_name == "Tom Recipient"
    assert received["Cc"].addresses[0].addr_spec == cc
    assert received["Message-ID"] == f"<{outgoing.message_id}>"
    assert outgoing.message_id.endswith("@" + mailbox.email_address.split("@")[1])
    assert received["Bcc"] is None
    assert "the numbers are attached in spirit." in received.get_content()
    # The Bcc recipient got it through the envelope alone; so did the Cc one.
    assert wait_for_messages(mail_settings, hidden)[0][0]["Message-ID"] == f"<{outgoing.message_id}>"
    assert wait_for_messages(mail_settings, cc)[0][0]["Message-ID"] == f"<{outgoing.message_id}>"

    # The SMTP login was XOAUTH2 as the mailbox's own user (Dovecot checked the token for it).
    assert postfix_saw_xoauth2(mail_settings, mailbox.email_address)

    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts, outgoing.last_error) == (OutgoingMessage.State.SENT, 1, "")
    assert outgoing.sent_copy == OutgoingMessage.CopyState.SAVED and outgoing.sent_at is not None
    [(copy, flags)] = wait_for_messages(mail_settings, mailbox.email_address, "Sent")
    assert copy["Message-ID"] == f"<{outgoing.message_id}>" and "\\Seen" in flags
    assert copy["Bcc"].addresses[0].addr_spec == hidden  # the sender still sees whom they copied


@pytest.mark.django_db
def test_the_sent_copy_goes_to_the_folder_the_sync_knows_as_sent(connect_office365_mailbox, mail_settings):
    mailbox = connect_office365_mailbox()
    client = mail_settings.imap(mailbox.email_address)
    client.create('"Sent Items"')
    client.logout()
    # As the sync records it: Exchange's "Sent Items" carries the \Sent special use.
    update_folders(mailbox, [("INBOX", "Inbox", "/", "\\Inbox"), ("Sent Items", "Sent Items", "/", "\\Sent"),
                             ("Sent", "Sent", "/", "")])
    outgoing = queue(mailbox, to=new_recipient(mail_settings))
    assert send_outgoing_message.call(outgoing.pk) == "sent"
    assert len(wait_for_messages(mail_settings, mailbox.email_address, "Sent Items")) == 1
    assert wait_for_messages(mail_settings, mailbox.email_address, "Sent", count=0) == []
    # A second copy of the same message (a retry after a crash) is not filed twice.
    from inboxbridge.sending import delivery

    delivery.save_sent_copy(OutgoingMessage.objects.select_related("mailbox").get(pk=outgoing.pk))
    assert len(wait_for_messages(mail_settings, mailbox.email_address, "Sent Items")) == 1


@pytest.mark.django_db
def test_a_reply_carries_in_reply_to_and_references(connect_office365_mailbox, mail_settings, client):
    mailbox = connect_office365_mailbox()
    partner = new_recipient(mail_settings, "partner")
    update_folders(mailbox, [("INBOX", "Inbox", "/", "\\Inbox")])
    parent = store(mailbox, raw_message("Project kick-off", sender=f"Pat Partner <{partner}>",
                                        to=mailbox.email_address, message_id="kickoff@elsewhere.test",
                                        references="<root@elsewhere.test>"))
    client.force_login(mailbox.owner)
    page = client.get(reverse("sending:reply", args=[parent.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["to"] == f"Pat Partner <{partner}>" and form.initial["subject"] == "Re: Project kick-off"
    answer = client.post(reverse("sending:reply", args=[parent.pk]), {
        "mailbox": mailbox.pk, "to": form.initial["to"], "subject": form.initial["subject"],
        "body": "Sounds good." + form.initial["body"],
    })
    assert answer.status_code == 302
    outgoing = OutgoingMessage.objects.get(reply_to_email=parent)
    assert send_outgoing_message.call(outgoing.pk) == "sent"
    [(received, _flags)] = wait_for_messages(mail_settings, partner)
    assert received["In-Reply-To"] == "<kickoff@elsewhere.test>"
    assert received["References"] == "<root@elsewhere.test> <kickoff@elsewhere.test>"
    assert "> Hello there." in received.get_content()


@pytest.mark.django_db
def test_a_refused_access_token_is_refreshed_once_and_the_message_goes(connect_office365_mailbox, mail_settings,
                                                                       identity, enabled_microsoft):
    mailbox = connect_office365_mailbox()
    # MSAL still counts the cached token as valid; the server does not (it expired).
    expired = identity.issue_access_token(mailbox.email_address, enabled_microsoft.client_id, lifetime=-600)
    plant_access_token(mailbox, expired)
    to = new_recipient(mail_settings)
    outgoing = queue(mailbox, to=to, subject="After a refresh")
    before = refreshes(identity)

    assert send_outgoing_message.call(outgoing.pk) == "sent"

    assert refreshes(identity) == before + 1
    assert wait_for_messages(mail_settings, to)[0][0]["Subject"] == "After a refresh"
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingMessage.State.SENT and outgoing.attempts == 1


@pytest.mark.django_db
def test_a_token_for_another_user_is_refused_by_the_server(connect_office365_mailbox, mail_settings, identity,
                                                           enabled_microsoft):
    """Dovecot checks the token belongs to the SASL user: someone else's token does not send."""
    mailbox = connect_office365_mailbox()
    other = connect_office365_mailbox()
    plant_access_token(mailbox, identity.issue_access_token(other.email_address, enabled_microsoft.client_id))
    from inboxbridge.mailboxes.credentials import smtp_login

    with pytest.raises(smtp.SmtpError) as refused:
        smtp.send(smtp_login(Mailbox.objects.get(pk=mailbox.pk)), mailbox.email_address, [other.email_address],
                  b"Subject: x\r\n\r\nx\r\n")
    assert refused.value.auth_failed and "535" in str(refused.value)


@pytest.mark.django_db
def test_a_revoked_grant_fails_the_message_with_reconnect_advice(connect_office365_mailbox, mail_settings, identity,
                                                                 enabled_microsoft, client):
    mailbox = connect_office365_mailbox()
    plant_access_token(mailbox, identity.issue_access_token(mailbox.email_address, enabled_microsoft.client_id,
                                                            lifetime=-600))
    identity.revoke_refresh_tokens(mailbox.email_address)
    outgoing = queue(mailbox, to=new_recipient(mail_settings))

    assert send_outgoing_message.call(outgoing.pk) == "failed"

    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingMessage.State.FAILED
    assert outgoing.last_error.startswith("Reconnect your mailbox")
    assert "AADSTS" in outgoing.last_error and "eyJ" not in outgoing.last_error
    assert Mailbox.objects.get(pk=mailbox.pk).needs_reconnect
    client.force_login(mailbox.owner)
    assert "Reconnect your mailbox" in client.get(reverse("sending:detail", args=[outgoing.pk])).content.decode()


@pytest.mark.django_db
def test_smtp_auth_disabled_fails_with_the_command_that_fixes_it(connect_office365_mailbox, mail_settings,
                                                                 monkeypatch, client):
    mailbox = connect_office365_mailbox()
    outgoing = queue(mailbox, to=new_recipient(mail_settings))
    calls = []

    def refuse(*args: Any) -> None:
        calls.append(args)
        raise smtp.SmtpError(
            "Authentication failed: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
            "for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", permanent=True)

    monkeypatch.setattr(smtp, "send", refuse)
    assert send_outgoing_message.call(outgoing.pk) == "failed"
    assert len(calls) == 1  # a new token would not help: no refresh, no second try

    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingMessage.State.FAILED
    command = f"Set-CASMailbox -Identity {mailbox.email_address} -SmtpClientAuthenticationDisabled $false"
    assert command in outgoing.last_error
    client.force_login(mailbox.owner)
    assert command in client.get(reverse("sending:outbox")).content.decode()
    assert command in client.get(reverse("sending:detail", args=[outgoing.pk])).content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_outbox_survives_a_worker_that_never_ran(connect_office365_mailbox, mail_settings, client):
    """Queued through the page, the process "dies" before any worker ran: the message is kept,
    queued, and the next worker run sends it."""
    mailbox = connect_office365_mailbox()
    to = new_recipient(mail_settings)
    client.force_login(mailbox.owner)
    answer = client.post(reverse("sending:compose"), {"mailbox": mailbox.pk, "to": to, "subject": "Survivor",
                                                      "body": "Still here."})
    assert answer.status_code == 302
    outgoing = OutgoingMessage.objects.get()
    assert outgoing.state == OutgoingMessage.State.QUEUED
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(status="READY").count() == 1  # enqueued with the commit

    call_command("db_worker", "--batch", verbosity=0)

    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingMessage.State.SENT
    assert wait_for_messages(mail_settings, to)[0][0]["Subject"] == "Survivor"


@pytest.mark.django_db(transaction=True)
def test_a_send_interrupted_after_the_claim_is_sent_by_the_next_worker(connect_office365_mailbox, mail_settings):
    """The worker claimed the message and died (before or after the server took it): once the
    claim runs out, the scheduler's call hands it out again and it is sent (at least once)."""
    mailbox = connect_office365_mailbox()
    to = new_recipient(mail_settings)
    outgoing = queue(mailbox, to=to, subject="Interrupted")
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the task died with its worker
    assert actions.claim_outgoing_message(outgoing.pk).message is not None
    assert actions.due_outgoing_messages() == []  # still claimed: nobody else touches it
    OutgoingMessage.objects.filter(pk=outgoing.pk).update(claimed_until="2000-01-01T00:00:00Z")

    assert tasks.enqueue_due_outgoing_messages() == 1
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingMessage.State.QUEUED and "may get it twice" in outgoing.last_error
    call_command("db_worker", "--batch", verbosity=0)

    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts, outgoing.last_error) == (OutgoingMessage.State.SENT, 2, "")
    assert wait_for_messages(mail_settings, to)[0][0]["Message-ID"] == f"<{outgoing.message_id}>"
