"""App-only system mailboxes (client credentials) against the identity stand-in, which applies
Exchange Online's rules, and the real Dovecot and Postfix: the Test button explains each refusal,
mail delivered through Postfix syncs, and mail sent from the mailbox arrives from its address,
with a client secret or a certificate."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.configuration.models import StoredSetting
from inboxbridge.mail.tests.helpers import message
from inboxbridge.mailboxes.credentials import imap_login, provider_for
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import client as microsoft_client
from inboxbridge.microsoft.config import CLIENT_SECRET
from inboxbridge.sending import actions as sending_actions
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import draft, new_recipient, wait_for_messages
from inboxbridge.sync.engine import sync_mailbox

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]

ROLES = ["IMAP.AccessAsApp", "SMTP.SendAsApp"]


@pytest.fixture(autouse=True)
def _fresh_app_tokens():
    """Each test asks Microsoft itself: no app token cached by an earlier test's process state."""
    microsoft_client.forget_app_tokens()
    yield
    microsoft_client.forget_app_tokens()


@pytest.fixture
def shared(enabled_microsoft, mail_settings, identity) -> dict[str, Any]:
    """A shared mailbox in Dovecot and the directory, its app-only system mailbox, and an app whose
    registration asks for IMAP.AccessAsApp and SMTP.SendAsApp (not yet consented)."""
    address = f"billing-{uuid.uuid4().hex[:6]}@{mail_settings.domain}"
    mail_settings.add_shared_mailbox(address)  # in Dovecot and in the directory
    identity.set_application_permissions(enabled_microsoft.client_id, ROLES)
    mailbox = make_mailbox(None, folders=(), label="Billing", email_address=address,
                           account_type=Mailbox.AccountType.OFFICE365_APP, password="", imap_host="", smtp_host="")
    return {"address": address, "mailbox": mailbox, "client_id": enabled_microsoft.client_id,
            "object_id": identity.enterprise_app_object_id(enabled_microsoft.client_id)}


def set_up_exchange(identity: Any, shared: dict[str, Any], *, consent: bool = True, object_id: str | None = None,
                    full_access: bool = True, send_as: bool = True) -> None:
    """What the Azure and Exchange Online administrators do, with one step left out or wrong."""
    principal = object_id or shared["object_id"]
    if consent:
        identity.grant_admin_consent(shared["client_id"])
    identity.register_service_principal(shared["client_id"], principal)
    if full_access:
        identity.grant_full_access(shared["address"], principal)
    if send_as:
        identity.grant_send_as(shared["address"], principal)


def press_test(client, admin_user, mailbox: Mailbox) -> list[tuple[str, str]]:
    """Click Test; the (level, text) of each answer the page shows."""
    client.force_login(admin_user)
    answer = client.post(reverse("mailbox-settings:system-mailbox-app-test", args=[mailbox.pk]))
    assert answer.status_code == 302 and answer["Location"].endswith("#app-only")
    return [(m.level_tag, str(m)) for m in get_messages(answer.wsgi_request)]


def texts(answers: list[tuple[str, str]], level: str) -> str:
    return "\n".join(text for lvl, text in answers if lvl == level)


def test_everything_granted_the_test_says_ok_for_the_token_imap_and_smtp(client, admin_user, shared, identity):
    set_up_exchange(identity, shared)
    answers = press_test(client, admin_user, shared["mailbox"])
    assert texts(answers, "error") == ""
    ok = texts(answers, "success")
    assert "Microsoft issued a token" in ok
    assert f"IMAP: the application opened {shared['address']}" in ok
    assert f"SMTP: the application may send as {shared['address']}" in ok


def test_without_admin_consent_the_token_has_no_roles_and_the_test_says_grant_consent(
        client, admin_user, shared, identity):
    set_up_exchange(identity, shared, consent=False)
    errors = texts(press_test(client, admin_user, shared["mailbox"]), "error")
    assert "carries no IMAP.AccessAsApp role" in errors and "carries no SMTP.SendAsApp role" in errors
    assert "grant admin consent" in errors


def test_a_service_principal_registered_with_the_app_registrations_object_id_is_explained(
        client, admin_user, shared, identity):
    set_up_exchange(identity, shared, object_id=identity.app_object_id(shared["client_id"]))
    errors = texts(press_test(client, admin_user, shared["mailbox"]), "error")
    assert ("registered with the app registration's Object ID instead of the Enterprise application's" in errors)
    assert "carries no" not in errors  # consent was given: the roles are there
    imap_decision = [d for d in identity.exchange_decisions() if d.service == "imap"][-1]
    assert not imap_decision.allowed and "ServiceId" in imap_decision.reason


def test_without_full_access_imap_is_refused_and_smtp_still_works(client, admin_user, shared, identity):
    set_up_exchange(identity, shared, full_access=False)
    answers = press_test(client, admin_user, shared["mailbox"])
    assert f"FullAccess is missing on {shared['address']}" in texts(answers, "error")
    assert f"SMTP: the application may send as {shared['address']}" in texts(answers, "success")


def test_without_send_as_smtp_is_refused_and_imap_still_works(client, admin_user, shared, identity):
    set_up_exchange(identity, shared, send_as=False)
    answers = press_test(client, admin_user, shared["mailbox"])
    assert f"IMAP: the application opened {shared['address']}" in texts(answers, "success")
    errors = texts(answers, "error")
    assert f"refused to let the application send as {shared['address']}: Send As is missing" in errors


def test_a_wrong_client_secret_gets_no_token_and_the_aadsts_code_with_what_to_do(client, admin_user, shared, identity):
    set_up_exchange(identity, shared)
    StoredSetting.objects.filter(key=CLIENT_SECRET.key).update(secret_value="not-the-secret")
    answers = press_test(client, admin_user, shared["mailbox"])
    errors = texts(answers, "error")
    assert "Microsoft issued no token for the application. AADSTS7000215" in errors
    assert "Paste the secret's Value" in errors
    assert "not-the-secret" not in errors
    assert texts(answers, "success") == ""  # nothing was tried with no token


def test_the_token_is_reused_until_a_server_refuses_it(shared, identity):
    set_up_exchange(identity, shared)
    asked = identity.count("token", "client_credentials")
    first = imap_login(shared["mailbox"])
    second = imap_login(shared["mailbox"])
    assert first.secret == second.secret and identity.count("token", "client_credentials") == asked + 1
    assert imap_login(shared["mailbox"], force_refresh=True).secret != first.secret
    assert identity.count("token", "client_credentials") == asked + 2
    assert provider_for(shared["mailbox"]).renewable


def sync_inbox(client, admin_user, mailbox: Mailbox) -> int:
    """Retrieve Folders, tick INBOX and save, as on the page; then one sync: how many were fetched."""
    client.force_login(admin_user)
    page = client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]),
                       follow=True).content.decode()
    assert "Retrieved" in page and 'id="folder-form"' in page
    inbox = mailbox.folders.get(name="INBOX")
    client.post(reverse("mailbox-settings:system-mailbox-folders", args=[mailbox.pk]),
                {"folders": [inbox.pk], "sync_start": "all"})
    return sync_mailbox(mailbox.pk).fetched


def test_mail_delivered_through_postfix_syncs_after_retrieve_folders(client, admin_user, shared, identity,
                                                                       mail_settings):
    set_up_exchange(identity, shared)
    mail_settings.deliver(message("Invoice 42 overdue", to=shared["address"]), to=shared["address"])
    wait_for_messages(mail_settings, shared["address"])
    assert sync_inbox(client, admin_user, shared["mailbox"]) == 1
    assert shared["mailbox"].emails.get().subject == "Invoice 42 overdue"


def test_losing_full_access_later_is_a_sync_error_that_names_it(client, admin_user, shared, identity, mail_settings):
    set_up_exchange(identity, shared)
    mail_settings.deliver(message("Before", to=shared["address"]), to=shared["address"])
    wait_for_messages(mail_settings, shared["address"])
    assert sync_inbox(client, admin_user, shared["mailbox"]) == 1
    identity.revoke_full_access(shared["address"], shared["object_id"])
    result = sync_mailbox(shared["mailbox"].pk)
    assert f"FullAccess is missing on {shared['address']}" in result.error
    shared["mailbox"].refresh_from_db()
    assert shared["mailbox"].state == Mailbox.State.ERROR and "Add-MailboxPermission" in shared["mailbox"].last_error


def test_without_send_as_the_outbox_says_what_exchange_needs(admin_user, shared, identity, mail_settings):
    set_up_exchange(identity, shared, send_as=False)
    outgoing = sending_actions.queue_message(admin_user, draft(shared["mailbox"], to=new_recipient(mail_settings)))
    send_outgoing_message.call(outgoing.pk)
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingMessage.State.FAILED, outgoing.state
    assert "holds Send As on the mailbox" in outgoing.last_error and "eyJ" not in outgoing.last_error


def test_a_message_sent_from_the_mailbox_arrives_from_its_address(admin_user, shared, identity, mail_settings):
    set_up_exchange(identity, shared)
    to = new_recipient(mail_settings)
    outgoing = sending_actions.queue_message(
        admin_user, draft(shared["mailbox"], to=to, subject="Your invoice", body="Attached in spirit.\n"))
    assert send_outgoing_message.call(outgoing.pk) == "sent"
    [(received, _flags)] = wait_for_messages(mail_settings, to)
    assert received["Subject"] == "Your invoice"
    assert received["From"].addresses[0].addr_spec == shared["address"]


def test_with_a_certificate_instead_of_the_secret_it_works_too(microsoft_certificate, client, admin_user, shared,
                                                                 identity, mail_settings):
    set_up_exchange(identity, shared)
    answers = press_test(client, admin_user, shared["mailbox"])
    assert texts(answers, "error") == ""
    assert f"IMAP: the application opened {shared['address']}" in texts(answers, "success")
    token_requests = [r for r in identity.requests if r["grant_type"] == "client_credentials"]
    assert token_requests and token_requests[-1]["credential"] == "assertion"
    mail_settings.deliver(message("Signed with a certificate", to=shared["address"]), to=shared["address"])
    wait_for_messages(mail_settings, shared["address"])
    assert sync_inbox(client, admin_user, shared["mailbox"]) == 1
