"""Access tokens for Office 365 mailboxes, refreshed at most once at a time per mailbox.

The MSAL token cache of each mailbox is stored encrypted on its row. A refresh takes the row lock
(SELECT ... FOR UPDATE; on SQLite the write lock of an IMMEDIATE transaction) so two workers never
redeem the same refresh token: the second one waits and then finds the fresh token in the cache.
"""

from __future__ import annotations

from django.db import transaction

from inboxbridge.mailboxes import messages
from inboxbridge.mailboxes.actions import require_reconnect
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import client
from inboxbridge.microsoft.config import load_config, mail_scopes
from inboxbridge.microsoft.errors import MicrosoftError


def access_token_for(mailbox: Mailbox, *, force_refresh: bool = False) -> str:
    config = load_config()
    if not config.email_sync_enabled:
        raise MailboxUnavailable(messages.OFFICE365_DISABLED)
    scopes = mail_scopes()
    if not force_refresh and mailbox.token_fingerprint == config.fingerprint:
        token = client.cached_access_token(client.new_cache(mailbox.token_cache), scopes, mailbox.ms_home_account_id)
        if token:
            return token

    failure: MicrosoftError | None = None
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        if locked.needs_reconnect:
            raise MailboxUnavailable(messages.RECONNECT_MESSAGE)
        cache = client.new_cache(locked.token_cache)
        # Credentials changed in Microsoft Settings: the cached access tokens belong to the old ones.
        stale = locked.token_fingerprint != config.fingerprint
        try:
            token = client.acquire_token_silent(
                config, cache, scopes, locked.ms_home_account_id, force_refresh=force_refresh or stale
            )
        except MicrosoftError as error:
            failure = error
        else:
            if client.cache_changed(cache) or stale:
                locked.token_cache = client.serialize_cache(cache)
                locked.token_fingerprint = config.fingerprint
                locked.save(update_fields=["token_cache", "token_fingerprint"])
            mailbox.token_cache, mailbox.token_fingerprint = locked.token_cache, locked.token_fingerprint
            return token
    assert failure is not None
    if failure.is_grant_revoked:
        require_reconnect(mailbox, failure.message)
    raise failure
