"""One message's original bytes, exactly as the server keeps them ("Download original", forward as
attachment, the API's RFC 822 form): the sync stores parsed messages, not their raw bytes.

The folder is opened with EXAMINE (read-only) and the message fetched with BODY.PEEK[], so reading
the original never marks it \\Seen. The fetch is the session's own (`ImapSession.fetch_messages`):
the same size limit (one byte over it tells a message over it), literal caps and timeouts as the sync.
"""

from __future__ import annotations

from inboxbridge.mailserver.imap import ImapSession, quote
from inboxbridge.mailserver.imap_parse import describe_size
from inboxbridge.mailserver.imap_wire import ImapError
from inboxbridge.mailserver.login import ServerLogin

_MAX_UID = 2**32 - 1  # RFC 3501: a UID is a non-zero 32-bit number
# The server's words for a folder that does not exist (deleted or renamed since the sync saw it),
# for servers that do not send RFC 5530's [NONEXISTENT] code.
_NO_FOLDER = ("doesn't exist", "does not exist", "no such mailbox", "no such folder", "unknown mailbox")


class MessageGone(ImapError):
    """The message is not on the server under this folder, UIDVALIDITY and UID any more: it was
    expunged or moved, its folder deleted, or the folder's UIDs were renumbered."""


class MessageTooLarge(ImapError):
    """The message is over the size limit of one message: it was not read into memory."""


def fetch_original(session: ImapSession, folder: str, uid: int, *, uidvalidity: int) -> bytes:
    """The whole message `uid` of `folder`, if the folder still has `uidvalidity` (a UID means the
    same message only under the same UIDVALIDITY). Raises MessageGone, MessageTooLarge or ImapError."""
    if not 0 < uid <= _MAX_UID:
        raise MessageGone(f"{uid} is not a UID.")
    current = examine(session, folder)
    if current is None:
        raise ImapError(f"EXAMINE {folder}: the server sent no UIDVALIDITY, so no UID can be trusted.")
    if current != uidvalidity:
        raise MessageGone(f"The UIDs of {folder} were renumbered by the server (UIDVALIDITY {current}).")
    for message in session.fetch_messages([uid]):
        if message.uid != uid:
            continue
        if message.defect:
            raise MessageTooLarge(f"This message is {describe_size(message.size)}, over the limit of "
                                  f"{describe_size(session.max_message_size)} for one message "
                                  "(INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES).")
        return message.raw
    raise MessageGone(f"UID {uid} is not in {folder}.")


def examine(session: ImapSession, folder: str) -> int | None:
    """Open `folder` read-only (EXAMINE) and return its UIDVALIDITY (None if the server sent none)."""
    session.selected = None  # always a fresh EXAMINE: its answer carries the UIDVALIDITY read below
    try:
        session.select(folder, readonly=True)
    except ImapError as exc:
        if _folder_missing(session, exc):
            raise MessageGone(f"The folder {quote(folder)} is not on the server any more.") from None
        raise
    # imaplib keeps the response codes of the SELECT/EXAMINE answer by name ("* OK [UIDVALIDITY 7]").
    _name, values = session.imap.response("UIDVALIDITY")
    value = values[-1] if values else None
    if isinstance(value, bytes) and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


def _folder_missing(session: ImapSession, exc: ImapError) -> bool:
    """Whether a refused EXAMINE says the folder does not exist."""
    if any(words in exc.message.lower() for words in _NO_FOLDER):
        return True
    try:
        # imaplib files a tagged answer's response code ("NO [NONEXISTENT] ...") under its name.
        return "NONEXISTENT" in session.imap.untagged_responses
    except ImapError:  # the connection was closed meanwhile
        return False


def original_message(login: ServerLogin, folder: str, uid: int, *, uidvalidity: int) -> bytes:
    """Log in, fetch one message's original bytes (see `fetch_original`), log out."""
    with ImapSession(login) as session:
        return fetch_original(session, folder, uid, uidvalidity=uidvalidity)
