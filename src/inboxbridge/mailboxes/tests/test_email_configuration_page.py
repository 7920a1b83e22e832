from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Mailbox

PAGE = reverse("mailboxes:email-configuration")


@pytest.mark.django_db
def test_office365_is_offered_only_while_the_integration_is_enabled(client, plain_user, microsoft_app, admin_user):
    from inboxbridge.microsoft import actions

    client.force_login(plain_user)
    assert 'value="office365"' not in client.get(PAGE).content.decode()
    refused = client.post(reverse("mailboxes:connect"), follow=True).content.decode()
    assert "an administrator has to enable it" in refused
    actions.enable_email_sync(admin_user, "x")
    assert 'value="office365"' in client.get(PAGE).content.decode()


@pytest.mark.django_db
def test_connect_starts_a_pkce_flow_with_login_hint_and_select_account(client, plain_user, enabled_microsoft,
                                                                       identity):
    client.force_login(plain_user)
    response = client.post(reverse("mailboxes:connect"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{identity.authority_host}/{identity.tenant_id}/oauth2/v2.0/authorize")
    for part in ("code_challenge_method=S256", "prompt=select_account", "login_hint=alice%40example.test",
                 "IMAP.AccessAsUser.All", "SMTP.Send", "POP.AccessAsUser.All", "offline_access"):
        assert part in location


@pytest.mark.mailserver
@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
@pytest.mark.parametrize("choice,kept", [("keep", 1), ("delete", 0)])
def test_disconnect_keeps_or_deletes_the_synced_mail(client, connect_office365_mailbox, choice, kept):
    mailbox = connect_office365_mailbox()
    Email.objects.create(mailbox=mailbox, message_key="a@x", subject="kept?")
    client.force_login(mailbox.owner)
    page = client.post(reverse("mailboxes:disconnect", args=[mailbox.pk]), {"mail": choice},
                       follow=True).content.decode()
    assert "is disconnected" in page
    call_command("db_worker", "--batch", verbosity=0)
    assert Email.objects.filter(subject="kept?").count() == kept
    assert not Mailbox.objects.filter(pk=mailbox.pk, active=True).exists()
    assert Mailbox.objects.filter(pk=mailbox.pk).exists() == bool(kept)
    assert 'id="connect-button"' in client.get(PAGE + "?type=office365").content.decode()


@pytest.mark.mailserver
@pytest.mark.django_db
def test_other_account_is_checked_live_before_it_is_saved(client, plain_user, mail_stack, identity, settings):
    settings.CA_BUNDLE = str(identity.ca_file)
    password = mail_stack.add_user("other@example.test")
    client.force_login(plain_user)
    form = {
        "email_address": "other@example.test", "imap_host": mail_stack.host, "imap_port": mail_stack.imaps_port,
        "imap_ssl": "on", "smtp_host": mail_stack.host, "smtp_port": mail_stack.submission_port,
        "smtp_security": "starttls", "username": "other@example.test", "password": "wrong",
    }
    refused = client.post(reverse("mailboxes:save-other"), form)
    assert refused.status_code == 400
    assert "IMAP check failed" in refused.content.decode()
    assert "wrong" not in refused.content.decode().replace("wrong password", "")
    assert not Mailbox.objects.exists()

    saved = client.post(reverse("mailboxes:save-other"), {**form, "password": password}, follow=True)
    assert "checked and saved" in saved.content.decode()
    mailbox = Mailbox.objects.get(owner=plain_user)
    assert mailbox.account_type == "other" and mailbox.password == password
    assert password not in client.get(PAGE).content.decode()
