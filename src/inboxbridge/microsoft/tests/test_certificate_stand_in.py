"""Every flow proves the app with its certificate against the identity stand-in, which checks the
client assertion like Microsoft; a certificate Azure does not hold, or an expired secret, is refused
with its AADSTS code explained, and administrators are alerted about the expired secret."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inboxbridge.cli import main
from inboxbridge.jobs.models import SyncRun
from inboxbridge.mailboxes.tokens import access_token_for
from inboxbridge.microsoft import actions, certificates, client
from inboxbridge.microsoft.config import load_config, mail_scopes
from inboxbridge.microsoft.errors import MicrosoftError
from inboxbridge.microsoft.tests.test_callback_safety import start_enable
from inboxbridge.sync.tests.helpers import append, make_message, select_folders

pytestmark = pytest.mark.django_db
CALLBACK = reverse("microsoft:callback")
PAGE = reverse("microsoft:settings")


def credentials_sent(identity, client_id: str) -> set[str | None]:
    return {e["credential"] for e in identity.requests if e["endpoint"] == "token" and e["client_id"] == client_id}


def test_enable_proves_a_certificate_with_a_signed_assertion(client, admin_user, microsoft_app, microsoft_certificate,
                                                            identity, ms_user):
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "Authorization was successful" in page
    assert load_config().credentials_verified
    # The stand-in refuses this app's secret as expired: only the certificate could have passed.
    assert credentials_sent(identity, microsoft_app.client_id) == {"assertion"}
    assert microsoft_app.client_secret not in page


def test_a_certificate_azure_does_not_hold_is_refused_with_aadsts700027_explained(client, admin_user, microsoft_app,
                                                                                 identity, ms_user):
    actions.save_certificate(admin_user, certificates.generate("not uploaded to Azure", 365), how="generated")
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "Authorization failed; email sync was not enabled." in page
    assert "AADSTS700027: Microsoft could not verify the application&#x27;s certificate" in page
    assert "Certificates &amp; secrets &gt; Certificates" in page
    assert not load_config().email_sync_enabled


def test_a_mailbox_connects_refreshes_and_syncs_with_the_certificate(microsoft_certificate, connect_office365_mailbox,
                                                                     mail_stack, identity, microsoft_app):
    mailbox = connect_office365_mailbox()
    select_folders(mailbox, "INBOX")
    imap = mail_stack.imap(mailbox.email_address)
    try:
        append(imap, "INBOX", make_message("Signed with a certificate"))
    finally:
        imap.logout()
    cache = client.new_cache(mailbox.token_cache)
    client.acquire_token_silent(load_config(), cache, mail_scopes(), mailbox.ms_home_account_id, force_refresh=True)
    assert main(["sync", "--mailbox", str(mailbox.pk)]) == 0
    assert SyncRun.objects.get(mailbox=mailbox).fetched == 1
    assert identity.count("token", "refresh_token") >= 1
    assert credentials_sent(identity, microsoft_app.client_id) == {"assertion"}


def test_a_secret_microsoft_reports_expired_is_explained_and_alerts_staff_until_replaced(
    client, admin_user, plain_user, microsoft_app, identity, ms_user
):
    identity.expire_secret(microsoft_app.client_id)
    client.force_login(admin_user)
    answer = start_enable(client, identity, ms_user)
    page = client.get(CALLBACK, answer, follow=True).content.decode()
    assert "AADSTS7000222: The client secret has expired" in page
    assert 'id="microsoft-credential-alert"' in page and 'id="secret-expired"' in page
    assert microsoft_app.client_secret not in page
    client.force_login(plain_user)
    assert "microsoft-credential-alert" not in client.get(reverse("home"), follow=True).content.decode()
    client.force_login(admin_user)
    client.post(PAGE, {"client_id": microsoft_app.client_id, "tenant_id": microsoft_app.tenant_id,
                       "client_secret": "a-brand-new-secret-value"})
    assert "microsoft-credential-alert" not in client.get(PAGE).content.decode()


def test_a_secret_that_expires_while_mail_syncs_alerts_staff(client, admin_user, connect_office365_mailbox,
                                                              microsoft_app, identity):
    mailbox = connect_office365_mailbox()
    identity.expire_secret(microsoft_app.client_id)
    with pytest.raises(MicrosoftError) as refused:
        access_token_for(mailbox, force_refresh=True)
    assert refused.value.code == 7000222
    client.force_login(admin_user)
    home = client.get(reverse("home"), follow=True).content.decode()
    assert "client secret as expired (AADSTS7000222)" in home
