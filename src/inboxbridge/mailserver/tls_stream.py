"""Reading a TLS connection in large socket reads (the sync's IMAP transport).

The contexts come from tls.py; this module only reads and writes through one.
"""

from __future__ import annotations

import socket
import ssl


class TlsStream:
    """A client TLS connection read through memory buffers, in large socket reads.

    Python's SSL socket returns at most one TLS record per read, and reading a record takes two
    system calls (its header, then its body): mail servers send records of about 4 KB, so a first
    sync of 1.7 GB made some 800,000 calls. Here the socket is read 256 KB at a time into
    OpenSSL's memory BIO and the records are decrypted from memory (docs/benchmarks.md, "Sync").

    Reads follow a binary file's rules (`readline`, `read` that returns fewer bytes only at the
    end); a peer that closes without TLS's close_notify reads as the end of the stream, as the
    standard library's sockets do. Timeouts and resets surface as OSError from the socket."""

    RECEIVE = 256 * 1024
    RECORD = 17 * 1024  # a TLS record holds at most 16 KB of data

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, server_hostname: str) -> None:
        self._sock = sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        self._buffer = b""  # decrypted and not read yet: self._buffer[self._pos:]
        self._pos = 0
        while True:
            try:
                self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if not self._receive():
                    raise ConnectionResetError("the server closed the connection during the TLS handshake") from None
        self._flush()

    def _flush(self) -> None:
        if self._outgoing.pending:
            self._sock.sendall(self._outgoing.read())

    def _receive(self) -> bool:
        data = self._sock.recv(self.RECEIVE)
        if not data:
            self._incoming.write_eof()
            return False
        self._incoming.write(data)
        return True

    def _next(self) -> bytes:
        """The next decrypted bytes (a record's worth); b"" at the end of the stream."""
        while True:
            try:
                data = self._tls.read(self.RECORD)
            except ssl.SSLWantReadError:
                self._flush()
                if self._incoming.eof:
                    return b""
                self._receive()  # at the end, the next read raises one of the errors below
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""
            self._flush()  # a TLS 1.3 key update is answered
            return data

    def _refill(self) -> bool:
        """Replaces the (consumed) buffer with the next decrypted bytes; False at the end."""
        chunk = self._next()
        if not chunk:
            return False
        self._buffer, self._pos = chunk, 0
        return True

    def readline(self, limit: int = -1) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            buffer, pos = self._buffer, self._pos
            end = buffer.find(b"\n", pos)
            stop = end + 1 if end >= 0 else len(buffer)
            if limit >= 0:
                stop = min(stop, pos + limit - total)
            parts.append(buffer[pos:stop])
            total += stop - pos
            self._pos = stop
            if (end >= 0 and stop == end + 1) or (limit >= 0 and total >= limit) or not self._refill():
                return parts[0] if len(parts) == 1 else b"".join(parts)

    def read(self, size: int) -> bytes:
        parts: list[bytes] = []
        need = size
        while True:
            buffer, pos = self._buffer, self._pos
            take = min(need, len(buffer) - pos)
            parts.append(buffer[pos : pos + take])
            self._pos = pos + take
            need -= take
            if need <= 0 or not self._refill():
                return parts[0] if len(parts) == 1 else b"".join(parts)

    def sendall(self, data: bytes) -> None:
        self._tls.write(data)
        self._flush()

    def close(self) -> None:
        """The socket stays its owner's to shut down and close."""
        self._buffer, self._pos = b"", 0
