"""A TCP server on loopback that records every connection and every byte it receives: it shows
whether inboxbridge contacted a host at all, and what it sent there."""

from __future__ import annotations

import socket
import threading
import time

IMAP_GREETING = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"
SMTP_GREETING = b"220 fake.example.test ESMTP\r\n"


class Listener:
    """Greets each connection with `banner` (an SSH server's, say), then reads until the client
    closes. `imap=True` / `smtp=True`: answers every command OK, so a client goes as far as
    logging in (plain text: no STARTTLS). `silent=True`: says nothing and never answers."""

    def __init__(self, banner: bytes = b"", *, imap: bool = False, smtp: bool = False, silent: bool = False) -> None:
        self.banner = IMAP_GREETING if imap else SMTP_GREETING if smtp else banner
        self.imap = imap
        self.smtp = smtp
        self.silent = silent
        self.connections = 0
        self.received = bytearray()
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(30)
            try:
                if self.banner and not self.silent:
                    connection.sendall(self.banner)
                pending = b""
                while chunk := connection.recv(65536):
                    with self._lock:
                        self.received.extend(chunk)
                    pending += chunk
                    while (self.imap or self.smtp) and b"\r\n" in pending:
                        line, pending = pending.split(b"\r\n", 1)
                        connection.sendall(self._imap_answer(line) if self.imap else self._smtp_answer(line))
            except OSError:
                pass

    @staticmethod
    def _imap_answer(line: bytes) -> bytes:
        tag, _, command = line.partition(b" ")
        verb = command.split(b" ", 1)[0].upper()
        untagged = {b"CAPABILITY": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n", b"LOGOUT": b"* BYE\r\n"}.get(verb, b"")
        return untagged + tag + b" OK done\r\n"

    @staticmethod
    def _smtp_answer(line: bytes) -> bytes:
        verb = line.split(b" ", 1)[0].upper()
        return {b"EHLO": b"250-fake.example.test\r\n250 AUTH PLAIN LOGIN\r\n", b"AUTH": b"235 2.7.0 Accepted\r\n",
                b"QUIT": b"221 Bye\r\n"}.get(verb, b"250 OK\r\n")

    def settle(self) -> None:
        """Give a connection made just now the moment it takes to be counted."""
        time.sleep(0.2)

    def close(self) -> None:
        self._server.close()
