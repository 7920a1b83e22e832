"""Sending from a shared mailbox through its delegate, against Postfix, Dovecot and the identity
stand-in, which apply Exchange's rules: SMTP logs in as the delegate (the token's owner) and the
shared address is the sender, which Exchange accepts only with Send As (else 554 5.2.252
SendAsDenied, which the outbox explains with who lacks it on which mailbox and how to grant it).
Compose offers every mailbox the user may read that can send, system mailboxes included."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.urls import reverse
from tests.factories import make_mailbox
from tests.fixtures import sign_in_without_browser

from inboxbridge.mailboxes import actions as mailbox_actions
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import client as microsoft
from inboxbridge.microsoft.config import load_config, mail_scopes
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.queries import sendable_mailboxes
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import new_recipient, queue, wait_for_messages


@pytest.fixture
def shared_mailbox(enabled_microsoft: Any, mail_settings: Any, identity: Any, django_user_model: Any) -> Mailbox:
    """support@: a shared mailbox Dana holds Full Access on, connected with her sign-in (no Send As yet)."""
    dana = f"dana-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    password = mail_settings.add_user(dana)
    identity.add_user(dana, password, name="Dana")
    shared = f"support-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    mail_settings.add_shared_mailbox(shared)
    identity.grant_full_access(shared, dana)
    config = load_config()
    flow = microsoft.start_flow(config, mail_scopes(), "http://localhost/oauth2/microsoft/callback", login_hint=dana)
    answer = sign_in_without_browser(flow["auth_uri"], dana, password, str(identity.ca_file))
    cache = microsoft.new_cache()
    signed_in = microsoft.finish_flow(config, flow, answer, cache)
    user = django_user_model.objects.create_user("dana", dana, "dana-password-1")
    return mailbox_actions.connect_shared_mailbox(user, shared, signed_in, microsoft.serialize_cache(cache),
                                                  config.fingerprint)


@pytest.mark.mailserver
@pytest.mark.django_db
def test_with_send_as_the_message_arrives_from_the_shared_address(shared_mailbox, mail_settings, identity):
    identity.grant_send_as(shared_mailbox.email_address, shared_mailbox.signed_in_as)
    to = new_recipient(mail_settings)
    outgoing = queue(shared_mailbox, to=to, subject="Your ticket 4711")

    assert send_outgoing_message.call(outgoing.pk) == "sent"

    [(received, _flags)] = wait_for_messages(mail_settings, to)
    assert received["Subject"] == "Your ticket 4711"
    assert received["From"].addresses[0].addr_spec == shared_mailbox.email_address
    decisions = identity.exchange_decisions()
    # SMTP authenticated the delegate; the shared address was the sender Exchange allowed.
    assert any(d.service == "smtp" and d.allowed and d.user.lower() == shared_mailbox.signed_in_as.lower()
               for d in decisions)
    assert any(d.service == "send-as" and d.allowed for d in decisions)
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.last_error) == (OutgoingMessage.State.SENT, "")
    # The copy went to the shared mailbox's Sent folder over IMAP, opened with the delegate's token.
    assert outgoing.sent_copy == OutgoingMessage.CopyState.SAVED, outgoing.sent_copy_error


@pytest.mark.mailserver
@pytest.mark.django_db
def test_without_send_as_the_outbox_says_who_lacks_it_and_how_to_grant_it(shared_mailbox, mail_settings, identity,
                                                                           client):
    to = new_recipient(mail_settings)
    outgoing = queue(shared_mailbox, to=to)

    assert send_outgoing_message.call(outgoing.pk) == "failed"

    outgoing.refresh_from_db()
    shared, delegate = shared_mailbox.email_address, shared_mailbox.signed_in_as
    assert outgoing.state == OutgoingMessage.State.FAILED
    assert outgoing.last_error.startswith(f"Microsoft 365 does not let {delegate} send as {shared} (554 5.2.252 "
                                          f"SendAsDenied): {delegate} has no Send As permission on {shared}.")
    command = f"Add-RecipientPermission -Identity {shared} -Trustee {delegate} -AccessRights SendAs"
    assert command in outgoing.last_error
    client.force_login(shared_mailbox.owner)
    assert command in client.get(reverse("sending:detail", args=[outgoing.pk])).content.decode()
    assert any(d.service == "send-as" and not d.allowed for d in identity.exchange_decisions())


@pytest.mark.django_db
def test_compose_offers_the_users_mailboxes_and_the_system_mailboxes_they_may_read(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("agent", "agent@example.test", "agent-password-1")
    own = make_mailbox(user)
    shared = make_mailbox(user, email_address="sales@example.test",
                          account_type=Mailbox.AccountType.OFFICE365_SHARED, signed_in_as="agent@example.test")
    granted = make_mailbox(None, label="Support")
    role = Group.objects.create(name="Support team")
    granted.authorized_roles.add(role)
    user.groups.add(role)
    make_mailbox(None, label="Not granted")  # a system mailbox the user may not read
    make_mailbox(user, email_address="stale@example.test", needs_reconnect=True)
    make_mailbox(user, email_address="nosmtp@example.test", smtp_host="")
    assert list(sendable_mailboxes(user)) == [own, shared, granted]
