"""GET /messages/{id}/raw against real Postfix and Dovecot: the bytes the mail server keeps, byte
for byte and left unread there; a message deleted on the server since the sync is a 404 problem
saying so; a server that cannot be reached is a 502 problem naming it, never the password."""

from __future__ import annotations

from typing import Any

import pytest

from inboxbridge.api.tests.conftest import bearer, make_token
from inboxbridge.mail.tests.helpers import delivered_and_synced, expunge_all, raw_inbox, stack_mailbox
from inboxbridge.mailboxes.models import Mailbox

pytestmark = [pytest.mark.django_db, pytest.mark.mailserver]


@pytest.fixture
def mailbox(mail_stack: Any, identity: Any, settings: Any, django_user_model: Any) -> Mailbox:
    settings.CA_BUNDLE = str(identity.ca_file)
    owner = django_user_model.objects.create_user("rhea", "rhea@example.test", "rhea-password-1")
    return stack_mailbox(mail_stack, owner, "rhea")


def raw(client: Any, email_id: int, token: str) -> Any:
    return client.get(f"/api/v1/messages/{email_id}/raw", **bearer(token))


def test_the_raw_message_is_the_server_s_bytes_and_stays_unread_there(client, mail_stack, mailbox):
    email = delivered_and_synced(mail_stack, mailbox, subject="Signed contract")

    answer = raw(client, email.pk, make_token(mailbox.owner))

    assert answer.status_code == 200
    assert answer["Content-Type"] == "message/rfc822"
    assert answer["Content-Disposition"].startswith('attachment; filename="Signed contract.eml"')
    assert answer["X-Content-Type-Options"] == "nosniff"
    [(kept, flags)] = raw_inbox(mail_stack, mailbox.email_address)
    assert answer.content == kept
    # What a rebuilt copy would lose: the signature header as sent and the 8-bit text unchanged.
    assert b"DKIM-Signature: v=1; a=rsa-sha256" in answer.content and "Schöne".encode() in answer.content
    assert "\\Seen" not in flags


def test_a_message_deleted_on_the_server_is_a_404_that_says_so(client, mail_stack, mailbox):
    email = delivered_and_synced(mail_stack, mailbox)
    expunge_all(mail_stack, mailbox.email_address)

    answer = raw(client, email.pk, make_token(mailbox.owner))

    assert answer.status_code == 404 and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"] == "The original is not on the mail server any more (deleted or moved)."


def test_a_server_that_cannot_be_reached_is_a_502_without_the_password(client, mail_stack, mailbox):
    email = delivered_and_synced(mail_stack, mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=1)  # nothing listens there

    answer = raw(client, email.pk, make_token(mailbox.owner))

    assert answer.status_code == 502 and answer["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 502 and "could not be reached: Could not connect to 127.0.0.1:1" in problem["detail"]
    assert mailbox.password not in answer.content.decode()


def test_another_user_s_token_gets_404_and_the_server_is_not_asked(client, mail_stack, mailbox, django_user_model):
    email = delivered_and_synced(mail_stack, mailbox)
    stranger = django_user_model.objects.create_user("sven", "sven@example.test", "sven-password-1")
    Mailbox.objects.filter(pk=mailbox.pk).update(imap_port=1)  # asking the server would answer 502

    answer = raw(client, email.pk, make_token(stranger))

    assert answer.status_code == 404
    assert "may read" in answer.json()["detail"]
