"""A full run — connect, sync, refresh, revoke, failed sync — writes no token or secret to any log."""

from __future__ import annotations

import json
import logging

import pytest

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tokens import access_token_for

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]


def secrets_in_cache(mailbox: Mailbox) -> set[str]:
    cache = json.loads(Mailbox.objects.get(pk=mailbox.pk).token_cache or "{}")
    found = set()
    for kind in ("AccessToken", "RefreshToken", "IdToken"):
        for entry in cache.get(kind, {}).values():
            found.add(entry["secret"])
    return found


def test_a_full_run_logs_no_token_or_secret(caplog, capfd, connect_office365_mailbox, enabled_microsoft, identity,
                                             mail_settings):
    from inboxbridge.sync.engine import sync_mailbox

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="inboxbridge")
    mailbox = connect_office365_mailbox()
    secrets = {enabled_microsoft.client_secret} | secrets_in_cache(mailbox)
    mail_settings.deliver(b"Subject: hello\r\nMessage-ID: <log-test@x>\r\n\r\nbody\r\n", to=mailbox.email_address)
    from inboxbridge.mailboxes import actions

    folders = actions.update_folders(mailbox, [("INBOX", "INBOX", "/", "\\Inbox")])
    actions.select_folders(mailbox.owner, mailbox, [f.pk for f in folders], None)
    assert sync_mailbox(mailbox.pk).fetched == 1
    identity.access_token_lifetime = 60  # the next use must refresh again
    access_token_for(Mailbox.objects.get(pk=mailbox.pk), force_refresh=True)
    secrets |= secrets_in_cache(mailbox)
    identity.inject("token", "invalid_client")
    with pytest.raises(Exception) as refused:
        access_token_for(Mailbox.objects.get(pk=mailbox.pk), force_refresh=True)
    identity.revoke_refresh_tokens(mailbox.email_address)
    secrets |= secrets_in_cache(mailbox)
    sync_mailbox(mailbox.pk)
    assert Mailbox.objects.get(pk=mailbox.pk).needs_reconnect

    captured = capfd.readouterr()
    everything = caplog.text + captured.out + captured.err + str(refused.value)
    everything += " ".join(Mailbox.objects.filter(pk=mailbox.pk).values_list("last_error", "reconnect_reason")[0])
    assert len(secrets) >= 5
    leaked = [s[:12] + "..." for s in secrets if s and s in everything]
    assert not leaked, f"secrets found in logs: {leaked}"
    assert "AADSTS" in everything  # the logs do say what went wrong
