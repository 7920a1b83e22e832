"""The bytes of an IMAP connection, read within limits (imap.py does the talking).

A server decides how long its lines are and announces the size of each literal (`{N}`) before it
sends it: a broken or hostile server could announce gigabytes, send a line without end, or answer
one command with responses without end. Nothing here reads more than these limits into memory:

- one literal: the session's `literal_limit` (INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES, plus the one
  byte that tells a message over it: the sync asks for no more of any message, so an honest
  server never sends more);
- one line: MAX_LINE (a UID SEARCH answer is one line);
- all the responses to one command, the message fetches aside (those are streamed): MAX_ANSWER.

Over a limit, the connection is closed with the rest unread and an `ImapError` names the limit.
"""

from __future__ import annotations

import imaplib
import socket
import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from inboxbridge.lib.redact import redact
from inboxbridge.mailserver.imap_parse import LITERAL, describe_size
from inboxbridge.mailserver.network import open_connection
from inboxbridge.mailserver.tls_stream import TlsStream

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

MAX_LINE = 64 * 1024 * 1024  # one SEARCH answer line; far above any real mailbox
MAX_ANSWER = 256 * 1024 * 1024  # every response to one command (the FLAGS of a million messages fit)
MAX_LITERALS = 1000  # literals in one response (a FETCH of ours has one)
# A literal announced with more digits than this is over any limit (and int() of thousands of
# digits is slow, then refused).
_MAX_DIGITS = 20


class ImapError(Exception):
    """An IMAP failure. `auth_failed`: the server refused the credential; `transient`: the
    connection dropped, timed out or the server is busy (retrying later may work)."""

    def __init__(self, message: str, *, auth_failed: bool = False, transient: bool = False) -> None:
        self.message = redact(message)[:500]
        self.auth_failed = auth_failed
        self.transient = transient
        super().__init__(self.message)


_TRANSIENT_CODES = ("[UNAVAILABLE]", "[LIMIT]", "[INUSE]", "[SERVERBUG]", "THROTTL", "TRY AGAIN")


def server_text(data: Any) -> str:
    """A server's answer as one line of text."""
    if isinstance(data, list | tuple):
        data = data[-1] if data else b""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return " ".join(str(data).split())


def is_transient(text: str) -> bool:
    """Whether a server's refusal says it is busy or unavailable (retrying later may work)."""
    upper = text.upper()
    return any(code in upper for code in _TRANSIENT_CODES)


def refusal(what: str, text: str) -> ImapError:
    return ImapError(f"{what}: {text}", transient=is_transient(text))


def imap_failure(what: str, exc: BaseException) -> ImapError:
    """Translate imaplib/socket/ssl exceptions (their texts carry no credentials)."""
    if isinstance(exc, ImapError):
        return exc
    if isinstance(exc, imaplib.IMAP4.abort | OSError | EOFError):
        # abort: the server said BYE or the stream broke; OSError covers timeouts, resets, TLS.
        detail = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else server_text(str(exc))
        return ImapError(f"{what}: connection lost ({detail or exc.__class__.__name__})", transient=True)
    return refusal(what, server_text(str(exc)))


class Oversized(ImapError):
    """A literal over the limit was announced: the connection was closed without reading it.
    `text`: the response up to the announcement (a FETCH response's UID is in it)."""

    def __init__(self, text: bytes, size: int, limit: int) -> None:
        self.text, self.size = text, size
        super().__init__(f"The IMAP server announced {describe_size(size)} in one response, over the limit of "
                         f"{describe_size(limit)} (INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES); the connection was closed.")


def line_too_long() -> ImapError:
    return ImapError(f"The IMAP server sent a line longer than {describe_size(MAX_LINE)}; the connection was closed.")


def answer_too_long() -> ImapError:
    return ImapError(f"The IMAP server answered one command with more than {describe_size(MAX_ANSWER)}; "
                     "the connection was closed.")


def literal_size(line: bytes) -> int | None:
    """The size of the literal announced at the end of a line, or None."""
    match = LITERAL.search(line)
    if match is None:
        return None
    digits = match.group(1)
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def read_response(file: BinaryIO, literal_limit: int) -> tuple[bytes, list[bytes]]:
    """One complete response: its text (literals left out) and its literals. Raises ImapError
    (Oversized for a literal over `literal_limit`); the caller then closes the connection."""
    parts: list[bytes] = []
    literals: list[bytes] = []
    text_size = literal_total = 0
    while True:
        line = file.readline(MAX_LINE + 1 - text_size)
        parts.append(line)
        text_size += len(line)
        if not line.endswith(b"\n"):
            if text_size > MAX_LINE:
                raise line_too_long()
            raise ImapError("The IMAP server closed the connection.", transient=True)
        size = literal_size(line) if line.endswith(b"}\r\n") else None
        if size is None:
            return (parts[0] if len(parts) == 1 else b"".join(parts)), literals
        if literal_total + size > literal_limit:
            raise Oversized(b"".join(parts), size, literal_limit)
        if len(literals) >= MAX_LITERALS:
            raise ImapError(f"The IMAP server sent more than {MAX_LITERALS:,} literals in one response; "
                            "the connection was closed.")
        data = file.read(size)
        if len(data) != size:
            raise ImapError("The IMAP server closed the connection mid-message.", transient=True)
        literals.append(data)
        literal_total += size


class BoundedImap(imaplib.IMAP4):
    """imaplib, for the small commands (LOGIN, LIST, STATUS, SELECT, APPEND), within the limits:
    imaplib itself reads any literal whole and keeps every response of a command."""

    def __init__(
        self, host: str, port: int, timeout: float, *, literal_limit: int, addresses: Sequence[str] = ()
    ) -> None:
        self.literal_limit = literal_limit
        self.addresses = tuple(addresses)  # the vetted addresses to connect to (network.py)
        self._answered = 0  # bytes received since the last command was sent
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        # To the vetted address, not to a new lookup of the name; STARTTLS still checks the name.
        return open_connection(self.host, self.port, self.addresses, timeout)

    def _received(self, size: int) -> None:
        self._answered += size
        if self._answered > MAX_ANSWER:
            raise answer_too_long()

    def read(self, size: int) -> bytes:
        if size > self.literal_limit:
            raise Oversized(b"", size, self.literal_limit)
        self._received(size)
        return super().read(size)

    def readline(self) -> bytes:
        line = super().readline()  # at most imaplib's _MAXLINE (1 MB)
        self._received(len(line))
        return line

    def send(self, data: ReadableBuffer) -> None:
        self._answered = 0
        super().send(data)


class ImapOverTls(BoundedImap):
    """imaplib over TLS from the first byte (port 993), read through `TlsStream`: a first sync
    reads gigabytes, and the standard socket reads them one 4 KB record at a time."""

    def __init__(
        self, host: str, port: int, ssl_context: ssl.SSLContext, timeout: float, *, literal_limit: int,
        addresses: Sequence[str] = (),
    ) -> None:
        self._ssl_context = ssl_context
        super().__init__(host, port, timeout, literal_limit=literal_limit, addresses=addresses)

    def open(self, host: str = "", port: int = 993, timeout: float | None = None) -> None:
        self.host, self.port = host, port
        self.sock = self._create_socket(timeout)
        try:
            self._stream = TlsStream(self.sock, self._ssl_context, host)
        except BaseException:
            self.sock.close()
            raise
        self.file = cast(Any, self._stream)  # imaplib reads from here

    def send(self, data: ReadableBuffer) -> None:
        self._answered = 0
        self._stream.sendall(bytes(data))
