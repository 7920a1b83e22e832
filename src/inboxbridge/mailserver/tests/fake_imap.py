"""A scripted IMAP server on loopback, for what a broken or hostile server can do to the sync.

It serves one folder (INBOX) of a few messages honestly, partial fetches (`BODY.PEEK[]<0.N>`)
included, unless told to answer a command or the FETCH of one UID with hostile bytes instead. It
counts what it managed to send on each connection and notices when the client hung up on it.
"""

from __future__ import annotations

import base64
import functools
import re
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inboxbridge.mailserver.login import ServerLogin

Send = Callable[[bytes], None]
# Sends a bad answer to the command of a tag (and may go on for ever); the server then hangs up.
Hostile = Callable[[Send, bytes], None]


@dataclass
class Connection:
    """One client connection as the server saw it."""

    sent: int = 0
    hung_up: bool = False  # the client closed the connection while the server was still sending
    commands: list[bytes] = field(default_factory=list)
    credentials: list[bytes] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)


def flood(head: bytes, filler: bytes = b"x" * 65536, limit: int = 256 * 1024 * 1024) -> Hostile:
    """Sends `head`, then `filler` until the client hangs up (or `limit` bytes: a client that
    reads everything would otherwise be fed for ever)."""

    def send_all(send: Send, tag: bytes) -> None:
        send(head)
        for _ in range(limit // len(filler)):
            send(filler)

    return send_all


@dataclass
class FakeImapServer:
    messages: dict[int, bytes]
    tls: ssl.SSLContext | None = None
    hostile_fetch: dict[int, Hostile] = field(default_factory=dict)  # UID -> its FETCH answer
    hostile_command: dict[bytes, Hostile] = field(default_factory=dict)  # b"LIST", b"STATUS", ...
    refuse_login: Callable[[bytes], bytes] | None = None  # the credential -> the text of a NO
    connections: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def ended(self, index: int) -> Connection:
        """The `index`th connection, once the server is done with it."""
        connection = self.connections[index]
        assert connection.ended.wait(30), "the fake server is still sending"
        return connection

    def __enter__(self) -> FakeImapServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        connection = Connection()
        self.connections.append(connection)
        sock.settimeout(30)
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
            reader = sock.makefile("rb")

            def send(data: bytes) -> None:
                sock.sendall(data)
                connection.sent += len(data)

            send(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=PLAIN] fake IMAP ready\r\n")
            for line in iter(reader.readline, b""):
                connection.commands.append(line)
                if not self._answer(line, reader, send, connection):
                    break
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            connection.hung_up = True
        except OSError:
            pass
        finally:
            sock.close()
            connection.ended.set()

    def _answer(self, line: bytes, reader: Any, send: Send, connection: Connection) -> bool:
        """Answers one command; False: hang up."""
        tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
        command, _, args = rest.partition(b" ")
        command = command.upper()
        if command == b"UID":
            command, _, args = args.partition(b" ")
            command = b"UID " + command.upper()
        hostile = self.hostile_command.get(command)
        if hostile is not None:
            hostile(send, tag)
            return False
        ok = tag + b" OK done\r\n"
        if command == b"CAPABILITY":
            send(b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 AUTH=PLAIN\r\n" + ok)
        elif command in (b"LOGIN", b"AUTHENTICATE"):
            credential = args
            if command == b"AUTHENTICATE":
                send(b"+ \r\n")
                credential = base64.b64decode(reader.readline().strip() or b"")
            connection.credentials.append(credential)
            if self.refuse_login is not None:
                send(tag + b" NO [AUTHENTICATIONFAILED] " + self.refuse_login(credential) + b"\r\n")
            else:
                send(ok)
        elif command == b"LIST":
            send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + ok)
        elif command == b"STATUS":
            counts = (self._uidnext, len(self.messages))
            send(b"* STATUS INBOX (UIDNEXT %d MESSAGES %d UIDVALIDITY 7)\r\n" % counts + ok)
        elif command in (b"SELECT", b"EXAMINE"):
            counts = (len(self.messages), self._uidnext)
            send(b"* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n" % counts
                 + tag + b" OK [READ-ONLY] done\r\n")
        elif command == b"UID SEARCH":
            send(b"* SEARCH " + b" ".join(b"%d" % uid for uid in sorted(self.messages)) + b"\r\n" + ok)
        elif command == b"UID FETCH":
            return self._fetch(args, send, ok)
        elif command == b"LOGOUT":
            send(b"* BYE bye\r\n" + ok)
            return False
        else:
            send(ok)
        return True

    @property
    def _uidnext(self) -> int:
        return max(self.messages, default=0) + 1

    def _fetch(self, args: bytes, send: Send, ok: bytes) -> bool:
        uid_set, _, items = args.partition(b" ")
        partial = re.search(rb"BODY\.PEEK\[\]<0\.(\d+)>", items)
        for seq, uid in enumerate(sorted(self.messages), start=1):
            if not _in_set(uid, uid_set):
                continue
            if uid in self.hostile_fetch and b"BODY" in items:
                self.hostile_fetch[uid](send, b"")
                return False
            raw = self.messages[uid]
            if b"BODY" not in items:
                send(b"* %d FETCH (UID %d FLAGS ())\r\n" % (seq, uid))
                continue
            body = raw[: int(partial.group(1))] if partial else raw
            name = b"BODY[]<0>" if partial else b"BODY[]"
            send(b'* %d FETCH (UID %d FLAGS () INTERNALDATE "17-Jul-2024 02:44:25 +0000" RFC822.SIZE %d %s {%d}\r\n'
                 % (seq, uid, len(raw), name, len(body)) + body + b")\r\n")
        send(ok)
        return True


def _in_set(uid: int, uid_set: bytes) -> bool:
    for part in uid_set.split(b","):
        low, _, high = part.partition(b":")
        top = 2**32 if high == b"*" else int(high or low)
        if int(low) <= uid <= top:
            return True
    return False


def message(subject: str, body: bytes = b"Hello.\r\n") -> bytes:
    return (f"Subject: {subject}\r\nFrom: sender@example.test\r\nTo: user@example.test\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@example.test>\r\n\r\n").encode() + body


# A ServerLogin for the fake server: Login(host, port, security), the rest defaulted.
Login = functools.partial(ServerLogin, username="user@example.test", mechanism="PLAIN", secret="not-a-real-password")


def server_contexts(ca: Any) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for a trustme CA."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client
