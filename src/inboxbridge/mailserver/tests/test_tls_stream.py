"""The sync's TLS transport: reads whole lines and exact sizes across TLS records of any size,
sees the end of the stream with or without close_notify, and refuses an untrusted server."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest
import trustme

from inboxbridge.mailserver.tls_stream import TlsStream

Script = Callable[[ssl.SSLSocket], None]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def serve(ca: trustme.CA) -> Iterator[Callable[[Script], TlsStream]]:
    """Starts a one-connection TLS server running `script`; returns a client stream to it."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    threads: list[threading.Thread] = []
    sockets: list[socket.socket] = []

    def start(script: Script) -> TlsStream:
        listener = socket.create_server(("127.0.0.1", 0))

        def run() -> None:
            connection, _ = listener.accept()
            listener.close()
            with server_context.wrap_socket(connection, server_side=True) as tls:
                script(tls)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        raw = socket.create_connection(listener.getsockname(), timeout=5)
        sockets.append(raw)
        return TlsStream(raw, client_context, "localhost")

    yield start
    for raw in sockets:
        raw.close()
    for thread in threads:
        thread.join(timeout=5)


def send_in_records(tls: ssl.SSLSocket, data: bytes, size: int) -> None:
    # Each sendall of a small piece goes out as a TLS record of its own.
    for start in range(0, len(data), size):
        tls.sendall(data[start : start + size])


def test_lines_and_literals_come_whole_across_records_of_any_size(serve):
    literal = bytes(range(256)) * 400  # 100 KB with every byte value, newlines included
    message = b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(literal) + literal + b")\r\nib1 OK done\r\n"

    def script(tls: ssl.SSLSocket) -> None:
        send_in_records(tls, message[:40], 1)  # a line split into one-byte records
        send_in_records(tls, message[40:], 4096)
        tls.recv(1)  # wait for the client to finish

    stream = serve(script)
    assert stream.readline() == b"* 1 FETCH (UID 7 BODY[] {%d}\r\n" % len(literal)
    assert stream.read(len(literal)) == literal
    assert stream.readline() == b")\r\n"
    assert stream.readline() == b"ib1 OK done\r\n"


def test_readline_stops_at_its_limit_and_carries_on(serve):
    stream = serve(lambda tls: (tls.sendall(b"abcdefghij\r\nnext\r\n"), tls.recv(1)))
    assert stream.readline(4) == b"abcd"
    assert stream.readline() == b"efghij\r\n"
    assert stream.readline(100) == b"next\r\n"


def test_a_long_line_in_many_records_is_read_in_one_piece(serve):
    line = b"* SEARCH " + b" ".join(b"%d" % n for n in range(200_000)) + b"\r\n"  # about 1.3 MB
    stream = serve(lambda tls: (send_in_records(tls, line, 16384), tls.recv(1)))
    assert stream.readline(64 * 1024 * 1024) == line


def test_what_the_client_sends_arrives(serve):
    received: list[bytes] = []

    def script(tls: ssl.SSLSocket) -> None:
        received.append(tls.recv(100))
        tls.sendall(b"ib1 OK\r\n")

    stream = serve(script)
    stream.sendall(b"ib1 NOOP\r\n")
    assert stream.readline() == b"ib1 OK\r\n"
    assert received == [b"ib1 NOOP\r\n"]


def test_the_end_of_the_stream_with_close_notify(serve):
    def script(tls: ssl.SSLSocket) -> None:
        tls.sendall(b"* BYE\r\npartial")
        try:
            tls.unwrap()  # sends close_notify, then waits for the client's, which never comes
        except (ssl.SSLError, OSError):
            pass

    stream = serve(script)
    assert stream.readline() == b"* BYE\r\n"
    assert stream.read(100) == b"partial"  # fewer bytes only at the end
    assert stream.readline() == b""
    assert stream.read(10) == b""


def test_a_server_that_drops_the_connection_reads_as_the_end(serve):
    def script(tls: ssl.SSLSocket) -> None:
        tls.sendall(b"* 1 FETCH (BODY[] {100}\r\nonly this")
        # The TCP connection ends without TLS's close_notify.
        tls.shutdown(socket.SHUT_RDWR)

    stream = serve(script)
    stream.readline()
    assert stream.read(100) == b"only this"
    assert stream.readline() == b""


def test_a_silent_server_times_out(serve):
    done = threading.Event()
    stream = serve(lambda tls: done.wait(5))
    stream._sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        stream.readline()
    done.set()


def test_an_untrusted_server_is_refused(ca):
    other = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    other.issue_cert("localhost").configure_cert(server_context)
    listener = socket.create_server(("127.0.0.1", 0))

    def run() -> None:
        connection, _ = listener.accept()
        listener.close()
        try:
            server_context.wrap_socket(connection, server_side=True).close()
        except (ssl.SSLError, OSError):
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    with socket.create_connection(listener.getsockname(), timeout=5) as raw, \
            pytest.raises(ssl.SSLCertVerificationError):
        TlsStream(raw, client_context, "localhost")
    thread.join(timeout=5)
