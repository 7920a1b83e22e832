"""The only module that speaks IMAP (stdlib imaplib underneath).

imaplib handles connecting, STARTTLS, authentication and the small commands. The commands whose
answers grow with the mailbox (UID SEARCH, UID FETCH) are read here straight from imaplib's socket
file: imaplib collects every response of a command in memory before returning and caps lines at
1 MB, while the sync must stream one message at a time and take SEARCH answers of any size. What a
server may make us read, either way, is bounded in imap_wire.py.

Every failure leaves this module as an `ImapError` whose text is safe to show and log: the
credential is only ever inside `ServerLogin.secret` and never formatted into a message.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from datetime import date
from typing import Any, BinaryIO, cast

from django.conf import settings

from inboxbridge.lib.tls import client_ssl_context
from inboxbridge.mailserver import imap_wire
from inboxbridge.mailserver.imap_parse import (
    FLAGS_ITEM,
    UID_ITEM,
    FetchedMessage,
    RemoteFolder,
    RemoteStatus,
    fetched_message,
    imap_date,
    parse_list_item,
    parse_search,
    parse_status,
    uid_ranges,
    unread_message,
)
from inboxbridge.mailserver.imap_wire import ImapError, Oversized, imap_failure, refusal, server_text
from inboxbridge.mailserver.login import ServerLogin

__all__ = ["FetchedMessage", "ImapError", "ImapSession", "RemoteFolder", "ServerLogin"]


# The whole message, but at most one byte over the size limit (a partial fetch, which tells a
# message over the limit without sending all of it): FETCH_ITEMS % (limit + 1).
FETCH_ITEMS = b"(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.%d>)"
# UIDs per UID FETCH command; two commands are kept in flight so the server never waits for us.
FETCH_CHUNK = 100


def check_login(login: ServerLogin, *, timeout: float | None = None) -> None:
    """Log in and out; `timeout` (seconds per network operation) defaults to the mail timeout."""
    with ImapSession(login, timeout=timeout):
        pass


def list_folders(login: ServerLogin) -> list[RemoteFolder]:
    with ImapSession(login) as session:
        return session.list_folders()


def quote(name: str) -> str:
    if any(ch in name for ch in "\r\n\0"):
        raise ImapError("Folder names with line breaks are not supported.")
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """One authenticated connection. Use as a context manager; methods raise ImapError."""

    def __init__(
        self, login: ServerLogin, *, timeout: float | None = None, ssl_context: ssl.SSLContext | None = None,
        max_message_size: int | None = None,
    ) -> None:
        self.login = login
        self._ssl_context = ssl_context
        self.timeout = float(timeout if timeout is not None else settings.MAIL_NETWORK_TIMEOUT)
        # The most bytes of one message read into memory (INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES).
        self.max_message_size = int(max_message_size if max_message_size is not None
                                    else settings.IMAP_MAX_LITERAL_BYTES)
        self.capabilities: frozenset[str] = frozenset()
        self.selected: str | None = None
        self.fetched = 0  # messages streamed by fetch_messages in this session
        self._tag = 0
        self._imap: imaplib.IMAP4 | None = None
        self._connect()

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> None:
        login = self.login
        where = f"{login.host}:{login.port}"
        if self._ssl_context is None and login.security != "none":
            self._ssl_context = client_ssl_context()
        try:
            limit = self.literal_limit
            if login.security == "ssl":
                context = cast(ssl.SSLContext, self._ssl_context)
                imap: imaplib.IMAP4 = imap_wire.ImapOverTls(
                    login.host, login.port, context, self.timeout, literal_limit=limit, addresses=login.addresses
                )
            else:
                imap = imap_wire.BoundedImap(login.host, login.port, self.timeout, literal_limit=limit,
                                             addresses=login.addresses)
                if login.security == "starttls":
                    imap.starttls(ssl_context=self._ssl_context)
        except ssl.SSLCertVerificationError as exc:
            raise ImapError(f"TLS certificate of {where} not trusted: {exc.verify_message}") from None
        except Exception as exc:
            raise imap_failure(f"Could not connect to {where}", exc) from None
        self._imap = imap
        try:
            self._authenticate(imap)
            data = self._call("CAPABILITY", imap.capability)
            self.capabilities = frozenset(server_text(data).upper().split())
        except BaseException:
            self.close()
            raise

    def _authenticate(self, imap: imaplib.IMAP4) -> None:
        login = self.login
        try:
            if login.mechanism == "XOAUTH2":
                answered = False

                def respond(challenge: bytes) -> bytes:
                    # A failed XOAUTH2 gets a JSON error as a second challenge, which must be
                    # answered with an empty line before the server sends its NO.
                    nonlocal answered
                    if answered:
                        return b""
                    answered = True
                    return f"user={login.username}\x01auth=Bearer {login.secret}\x01\x01".encode()

                imap.authenticate("XOAUTH2", respond)
            else:
                imap.login(login.username, login.secret)
        except imaplib.IMAP4.abort as exc:
            raise imap_failure("IMAP login", exc) from None
        except imaplib.IMAP4.error as exc:
            # LOGIN's refusal carries the server's bytes (str() of it would read "b'...'").
            text = server_text(exc.args[0] if exc.args else "")
            transient = imap_wire.is_transient(text)
            raise ImapError(
                f"The IMAP server refused the login of {login.username}: {text}",
                auth_failed=not transient, transient=transient,
            ) from None
        except Exception as exc:
            raise imap_failure("IMAP login", exc) from None

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.logout()

    def logout(self) -> None:
        if self._imap is None:
            return
        try:
            self._imap.logout()
        except Exception:  # noqa: S110 - a failed goodbye changes nothing
            pass
        self.close()

    def close(self) -> None:
        imap, self._imap = self._imap, None
        self.selected = None
        if imap is not None:
            try:
                imap.shutdown()
            except Exception:  # noqa: S110
                pass

    @property
    def imap(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise ImapError("The IMAP connection is closed.", transient=True)
        return self._imap

    @property
    def literal_limit(self) -> int:
        """The longest literal read: a message one byte over the limit shows it is over."""
        return self.max_message_size + 1

    @property
    def condstore(self) -> bool:
        return "CONDSTORE" in self.capabilities or "QRESYNC" in self.capabilities

    def _call(self, what: str, method: Callable[..., tuple[str, list[Any]]], *args: Any) -> list[Any]:
        try:
            typ, data = method(*args)
        except Exception as exc:
            failure = imap_failure(what, exc)
            if failure.transient or isinstance(exc, ImapError):  # ImapError: a limit, mid-response
                self.close()
            raise failure from None
        if typ != "OK":
            raise refusal(what, server_text(data))
        return data

    # -- folders --------------------------------------------------------------------------

    def list_folders(self) -> list[RemoteFolder]:
        data = self._call("LIST", self.imap.list, '""', "*")
        folders = []
        for item in data:
            parsed = parse_list_item(item)
            if parsed is not None:
                folders.append(parsed)
        return folders

    def status(self, name: str) -> RemoteStatus:
        items = "UIDNEXT MESSAGES UIDVALIDITY" + (" HIGHESTMODSEQ" if self.condstore else "")
        data = self._call(f"STATUS {name}", self.imap.status, quote(name), f"({items})")
        raw = data[-1]
        if isinstance(raw, tuple):  # the name came as a literal
            raw = raw[-1]
        values = parse_status(raw or b"")
        if b"UIDVALIDITY" not in values:
            raise ImapError(f"STATUS {name}: the server sent no UIDVALIDITY")
        return RemoteStatus(
            uidvalidity=values[b"UIDVALIDITY"],
            uidnext=values.get(b"UIDNEXT"),
            messages=values.get(b"MESSAGES", 0),
            highestmodseq=values.get(b"HIGHESTMODSEQ"),
        )

    def select(self, name: str, *, readonly: bool = True) -> None:
        if self.selected == name and (readonly or not self.imap.is_readonly):
            return
        self._call(f"SELECT {name}", self.imap.select, quote(name), readonly)
        self.selected = name

    # -- streaming commands ---------------------------------------------------------------

    def _send(self, command: bytes) -> bytes:
        self._tag += 1
        tag = b"ib%d" % self._tag
        try:
            self.imap.send(tag + b" " + command + b"\r\n")
        except Exception as exc:
            self.close()
            raise imap_failure(command.split(b" ", 2)[1].decode(), exc) from None
        return tag

    def _response(self) -> tuple[bytes, list[bytes]]:
        """One complete server response: its text (literals left out) and its literals."""
        try:
            text, literals = imap_wire.read_response(cast(BinaryIO, self.imap.file), self.literal_limit)
        except ImapError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise imap_failure("IMAP", exc) from None
        if text.startswith(b"* BYE"):
            self.close()
            raise ImapError(f"The IMAP server ended the session: {server_text(text[5:])}", transient=True)
        return text, literals

    def _until_tagged(
        self, tag: bytes, what: str, *, bounded: bool = True
    ) -> Iterator[tuple[bytes, list[bytes]]]:
        """Yield the untagged responses of the command `tag`; raise if it did not end in OK.
        `bounded`: all of them together are at most MAX_ANSWER bytes (those of a command that
        is streamed, not collected, are not counted)."""
        prefix = tag + b" "
        answered = 0
        while True:
            text, literals = self._response()
            if bounded:
                answered += len(text) + sum(len(literal) for literal in literals)
                if answered > imap_wire.MAX_ANSWER:
                    self.close()
                    raise imap_wire.answer_too_long()
            if text.startswith(prefix):
                status = text[len(prefix) :]
                if not status.startswith(b"OK"):
                    raise refusal(what, server_text(status))
                return
            if text.startswith(b"+"):
                self.close()
                raise ImapError(f"{what}: unexpected continuation request", transient=True)
            yield text, literals

    def search(
        self, *, since: date | None = None, uid_range: str | None = None, header: tuple[str, str] | None = None
    ) -> list[int]:
        """UIDs in the selected folder: all, or those matching every criterion given (INTERNALDATE
        on/after `since`, a UID range, a header containing a value)."""
        criteria = []
        if uid_range:
            criteria.append(f"UID {uid_range}")
        if since is not None:
            criteria.append("SINCE " + imap_date(since))
        if header is not None:
            criteria.append(f"HEADER {quote(header[0])} {quote(header[1])}")
        command = "UID SEARCH " + (" ".join(criteria) or "ALL")
        uids: list[int] = []
        for text, _literals in self._until_tagged(self._send(command.encode()), "SEARCH"):
            if text.startswith(b"* SEARCH"):
                uids.extend(parse_search(text))
        uids.sort()
        return uids

    def fetch_flags(self, uid_set: str, *, changed_since: int | None = None) -> dict[int, tuple[str, ...]]:
        """FLAGS of the given UIDs (only those changed since a modseq, with CONDSTORE)."""
        command = f"UID FETCH {uid_set} (UID FLAGS)"
        if changed_since is not None:
            command += f" (CHANGEDSINCE {changed_since})"
        flags: dict[int, tuple[str, ...]] = {}
        for text, _literals in self._until_tagged(self._send(command.encode()), "FETCH FLAGS"):
            uid_match, flag_match = UID_ITEM.search(text), FLAGS_ITEM.search(text)
            if b" FETCH " in text and uid_match and flag_match:
                flags[int(uid_match.group(1))] = tuple(flag_match.group(1).decode("utf-8", "replace").split())
        return flags

    def fetch_messages(
        self, uids: Sequence[int], *, chunk: int = FETCH_CHUNK
    ) -> Generator[FetchedMessage, None, None]:
        """Stream whole messages of the selected folder, one at a time, in the server's order.

        A message over the size limit comes with its headers only (its `defect` says so). A
        server that sends more of a message than was asked for has the connection closed with
        the message unread: it comes without content, and the rest come over a new connection."""
        folder, wanted, remaining = self.selected, set(uids), list(uids)
        while remaining:
            received: set[int] = set()
            try:
                with closing(self._stream_messages(remaining, chunk)) as stream:
                    for message in stream:
                        received.add(message.uid)
                        yield message
                return
            except Oversized as exc:
                unread = unread_message(exc.text, exc.size, self.max_message_size)
                if folder is None or unread is None or unread.uid not in wanted or unread.uid in received:
                    raise
                received.add(unread.uid)
                self.fetched += 1
                yield unread
            remaining = [uid for uid in remaining if uid not in received]
            if remaining:
                self._connect()
                self.select(folder)

    def _stream_messages(self, uids: Sequence[int], chunk: int) -> Generator[FetchedMessage, None, None]:
        """Two UID FETCH commands are in flight at any moment so the server streams without pausing
        for our round trips. Stopping early (break, exception) closes the connection: the rest of
        the answers would otherwise still be on the wire."""
        items = FETCH_ITEMS % self.literal_limit
        chunks = [uids[i : i + chunk] for i in range(0, len(uids), chunk)]
        pending: list[bytes] = []
        next_chunk = 0
        finished = False
        try:
            while next_chunk < len(chunks) or pending:
                while next_chunk < len(chunks) and len(pending) < 2:
                    spec = uid_ranges(chunks[next_chunk]).encode()
                    pending.append(self._send(b"UID FETCH " + spec + b" " + items))
                    next_chunk += 1
                for text, literals in self._until_tagged(pending.pop(0), "FETCH", bounded=False):
                    if literals and b" FETCH " in text:
                        message = fetched_message(text, literals[-1], self.max_message_size)
                        if message is not None:
                            self.fetched += 1
                            yield message
            finished = True
        finally:
            if not finished:
                self.close()

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ()) -> None:
        """APPEND a message to a folder (no need to select it)."""
        flag_list = "(" + " ".join(flags) + ")" if flags else None
        # typeshed declares IMAP4.append as returning str; it returns (typ, data) like every command.
        append = cast(Callable[..., tuple[str, list[Any]]], self.imap.append)
        self._call(f"APPEND {folder}", append, quote(folder), flag_list, None, raw)

    def store_flags(self, uids: Sequence[int], *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Set or clear flags on messages of the selected (read-write) folder."""
        spec = uid_ranges(sorted(uids)).encode()
        for sign, flags in ((b"+", add), (b"-", remove)):
            if flags and spec:
                command = b"UID STORE " + spec + b" " + sign + b"FLAGS.SILENT (" + " ".join(flags).encode() + b")"
                for _ in self._until_tagged(self._send(command), "STORE"):
                    pass


def append_message(login: ServerLogin, folder_name: str, message_bytes: bytes, flags: Sequence[str] = ()) -> bool:
    """Store a message in a folder (the sender's copy in Sent). Stores nothing and returns False when
    the folder already holds its Message-ID: a repeated copy (a retry, or a server that files sent
    mail itself) must not show twice."""
    head = message_bytes.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = re.search(rb"(?im)^message-id:\s*(<[!-~]+>)", head)
    with ImapSession(login) as session:
        if found:
            session.select(folder_name)
            if session.search(header=("Message-ID", found[1].decode("ascii"))):
                return False
        session.append(folder_name, message_bytes, flags)
    return True
