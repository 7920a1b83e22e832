"""An IMAP session on a mailbox's server, for the sync and the flag push: log in with the mailbox's
credential; an access token the server refuses (expired early, a revoked scope) is refreshed once."""

from __future__ import annotations

import logging
from typing import Protocol

from inboxbridge.mailboxes.credentials import imap_login, provider_for
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.imap import ImapError, ImapSession
from inboxbridge.mailserver.login import IMAP, ServerLogin

logger = logging.getLogger(__name__)


class MailboxLogin(Protocol):
    """How to log in to a mailbox's IMAP server (credentials.imap_login, or a test's stand-in)."""

    def __call__(self, mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin: ...


def open_imap_session(mailbox: Mailbox, *, login: MailboxLogin = imap_login) -> ImapSession:
    first = login(mailbox)
    try:
        return ImapSession(first)
    except ImapError as exc:
        if not (exc.auth_failed and first.mechanism == "XOAUTH2"):
            raise
    logger.info("Mailbox %s: access token refused by the IMAP server; refreshing it", mailbox.pk)
    try:
        return ImapSession(login(mailbox, force_refresh=True))
    except ImapError as exc:
        if not exc.auth_failed:
            raise
        # Refused even when fresh: the cause is the account's rights (a delegate who lost Full
        # Access), which the mailbox's people read in the sync error.
        raise ImapError(provider_for(mailbox).explain_refusal(mailbox, IMAP, exc.message), auth_failed=True) from None
