"""Read and flagged states set here, told to the server: one email at a time by the task a reader's
click enqueues (mail.tasks.push_email_flags), and every pending one at the start of each sync (so a
sync never overwrites a click with the server's older state; sync.engine).

An email's `flags_pending` stays set until its state is on the server; it is cleared only if the
reader did not change the flags again meanwhile."""

from __future__ import annotations

import logging

from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.eligibility import sync_refusal
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.sessions import open_imap_session
from inboxbridge.mailserver.imap import ImapError, ImapSession
from inboxbridge.microsoft.errors import MicrosoftError

logger = logging.getLogger(__name__)

# Pushed per sync at most; the rest goes with the next sync (or its own task).
PENDING_PER_SYNC = 1000


def push_pending_flags(mailbox: Mailbox, session: ImapSession) -> int:
    """Tell the server about every read/flagged change made here in this mailbox."""
    pending = list(
        Email.objects.filter(mailbox=mailbox, flags_pending=True).values_list("pk", flat=True)[:PENDING_PER_SYNC]
    )
    for email_id in pending:
        _push(email_id, session)
    return len(pending)


def push_flags(email_id: int) -> None:
    """Push one Email's is_seen/is_flagged to every folder holding it, unless its mailbox may not
    sync now (the change stays pending and the next sync pushes it)."""
    email = Email.objects.select_related("mailbox").filter(pk=email_id).first()
    if email is None or not email.flags_pending:
        return
    mailbox = email.mailbox
    if sync_refusal(mailbox) is not None:
        return
    try:
        with open_imap_session(mailbox) as session:
            _push(email_id, session)
    except (ImapError, MailboxUnavailable, MicrosoftError) as exc:
        logger.warning("Mailbox %s: flags of email %s not pushed yet: %s", mailbox.pk, email_id, exc)


def _push(email_id: int, session: ImapSession) -> None:
    email = Email.objects.filter(pk=email_id).values("is_seen", "is_flagged", "flags_pending").first()
    if email is None or not email["flags_pending"]:
        return
    seen, flagged = email["is_seen"], email["is_flagged"]
    placements = Placement.objects.filter(email_id=email_id, uid__gt=0, folder__exists_on_server=True).values_list(
        "folder__name", "uid"
    )
    by_folder: dict[str, list[int]] = {}
    for name, uid in placements:
        by_folder.setdefault(name, []).append(uid)
    add = [flag for flag, on in (("\\Seen", seen), ("\\Flagged", flagged)) if on]
    remove = [flag for flag, on in (("\\Seen", seen), ("\\Flagged", flagged)) if not on]
    for name, uids in by_folder.items():
        session.select(name, readonly=False)
        session.store_flags(uids, add=add, remove=remove)
    Email.objects.filter(pk=email_id, is_seen=seen, is_flagged=flagged, flags_pending=True).update(
        flags_pending=False
    )
