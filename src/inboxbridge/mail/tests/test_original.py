"""Download original (.eml) against real Postfix and Dovecot: a message delivered and synced comes
back byte for byte as Dovecot keeps it, without being marked read on the server; a message deleted
on the server, or a server that cannot be reached, says so on a page of its own; another user's
id is 404; an Office 365 access token the server refuses is refreshed once."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.mail.tests.helpers import (
    READER_NAVIGATION,
    delivered_and_synced,
    expunge_all,
    message,
    raw_inbox,
    stack_mailbox,
    store,
)
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.sending.tests.helpers import plant_access_token
from inboxbridge.sync.tests.helpers import select_folders

pytestmark = pytest.mark.django_db


@pytest.fixture
def nora(mail_stack: Any, identity: Any, settings: Any, django_user_model: Any, client: Any) -> Mailbox:
    """Nora's own mailbox (account type Other) on the stack, INBOX synced; she is signed in."""
    settings.CA_BUNDLE = str(identity.ca_file)
    user = django_user_model.objects.create_user("nora", "nora@example.test", "nora-password-1")
    client.force_login(user)
    return stack_mailbox(mail_stack, user, "nora")


@pytest.mark.mailserver
def test_the_download_is_the_original_byte_for_byte_and_leaves_it_unread_on_the_server(mail_stack, nora, client):
    email = delivered_and_synced(mail_stack, nora)
    page = client.get(reverse("mail:detail", args=[email.pk]))
    assert reverse("mail:original", args=[email.pk]) in page.content.decode()

    response = client.get(reverse("mail:original", args=[email.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"].startswith('attachment; filename="Contract, signed.eml"')
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    [(raw, flags)] = raw_inbox(mail_stack, nora.email_address)
    assert response.content == raw
    assert b"DKIM-Signature: v=1; a=rsa-sha256" in raw and "Sch\u00f6ne".encode() in raw
    assert "\\Seen" not in flags


@pytest.mark.mailserver
def test_a_message_deleted_on_the_server_says_it_is_not_there_any_more(mail_stack, nora, client):
    email = delivered_and_synced(mail_stack, nora)
    expunge_all(mail_stack, nora.email_address)

    response = client.get(reverse("mail:original", args=[email.pk]))

    assert response.status_code == 404
    text = response.content.decode()
    assert "The original is not on the mail server any more (deleted or moved)." in text
    assert reverse("mail:detail", args=[email.pk]) in text


@pytest.mark.mailserver
def test_a_server_that_cannot_be_reached_is_named_without_the_password(mail_stack, nora, client):
    email = delivered_and_synced(mail_stack, nora)
    Mailbox.objects.filter(pk=nora.pk).update(imap_port=1)  # nothing listens there

    response = client.get(reverse("mail:original", args=[email.pk]))

    assert response.status_code == 502
    text = response.content.decode()
    assert "The mail server could not be reached: Could not connect to 127.0.0.1:1" in text
    assert nora.password not in text


@pytest.mark.mailserver
def test_another_users_message_is_404(mail_stack, nora, client, django_user_model):
    email = delivered_and_synced(mail_stack, nora)
    other = django_user_model.objects.create_user("oscar", "oscar@example.test", "oscar-password-1")
    make_mailbox(other)
    client.force_login(other)

    assert client.get(reverse("mail:original", args=[email.pk])).status_code == 404
    assert client.get(reverse("mail:original", args=[email.pk + 1000])).status_code == 404


@pytest.mark.mailserver
def test_an_office365_token_the_server_refuses_is_refreshed_once(connect_office365_mailbox, mail_settings, identity,
                                                                  enabled_microsoft, client):
    mailbox = connect_office365_mailbox()
    select_folders(mailbox, "INBOX")
    email = delivered_and_synced(mail_settings, mailbox, subject="Über den Vertrag")
    # MSAL still counts the cached token as valid; the server does not (it expired).
    plant_access_token(mailbox, identity.issue_access_token(mailbox.email_address, enabled_microsoft.client_id,
                                                            lifetime=-600))
    before = identity.count("token", "refresh_token")
    client.force_login(mailbox.owner)

    response = client.get(reverse("mail:original", args=[email.pk]))

    assert response.status_code == 200, response.content.decode()[:2000]
    assert [response.content] == [raw for raw, _flags in raw_inbox(mail_settings, mailbox.email_address)]
    assert identity.count("token", "refresh_token") == before + 1
    assert "filename*=UTF-8''%C3%9Cber%20den%20Vertrag.eml" in response["Content-Disposition"]


def test_a_message_s_images_or_another_site_cannot_make_the_server_fetch_originals(client, django_user_model):
    user = django_user_model.objects.create_user("pia", "pia@example.test", "pia-password-1")
    mailbox = make_mailbox(user)
    email = store(mailbox, message("Big one"))
    Folder.objects.filter(mailbox=mailbox).update(uidvalidity=7)  # as a sync records it
    client.force_login(user)
    url = reverse("mail:original", args=[email.pk])
    as_image = {"HTTP_SEC_FETCH_DEST": "image", "HTTP_SEC_FETCH_MODE": "no-cors", "HTTP_SEC_FETCH_SITE": "same-origin"}
    from_elsewhere = {**READER_NAVIGATION, "HTTP_SEC_FETCH_SITE": "cross-site"}

    for headers in (as_image, from_elsewhere):
        response = client.get(url, **headers)
        assert response.status_code == 403 and b"from the message's page" in response.content
    # The reader's own click goes to the mail server (which, for this made-up mailbox, is nowhere).
    reader = client.get(url, **READER_NAVIGATION)
    assert reader.status_code == 502 and "imap.invalid" in reader.content.decode()
