"""What a broken or hostile IMAP server can make the sync read stays bounded: a message over the
size limit keeps its headers and is marked, a literal announced over the limit is never read (the
connection is closed and the other messages still come), an endless line or an endless answer ends
the connection with a clear error, and no answer takes time that grows faster than its length."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from inboxbridge.mailserver import imap_wire
from inboxbridge.mailserver.imap import ImapError, ImapSession
from inboxbridge.mailserver.imap_parse import fetched_message
from inboxbridge.mailserver.tests.fake_imap import FakeImapServer, Login, flood, message, server_contexts

LIMIT = 1024 * 1024  # the size limit of one message in these tests
HUGE = 99_999_999_999  # what the hostile server announces
# What a server can push into the kernel's socket buffers before a client that reads nothing
# blocks it: far below what it tried to send (512 MB).
BUFFERS = 16 * 1024 * 1024

Serve = Callable[..., tuple[FakeImapServer, Login, dict]]


@pytest.fixture(params=["ssl", "none"])
def serve(request: pytest.FixtureRequest, test_ca) -> Iterator[Serve]:
    """Starts a fake server (over TLS, as Office 365, and in plain text); returns it, a login to
    it and the keyword arguments for an ImapSession."""
    servers: list[FakeImapServer] = []
    server_tls, client_tls = server_contexts(test_ca)

    def start(messages: dict[int, bytes], **kwargs) -> tuple[FakeImapServer, Login, dict]:
        tls = server_tls if request.param == "ssl" else None
        server = FakeImapServer(messages, tls=tls, **kwargs)
        servers.append(server)
        login = Login("localhost", server.port, request.param)
        return server, login, {"ssl_context": client_tls, "timeout": 10}

    yield start
    for server in servers:
        server.close()


def fetch_all(login: Login, session_kwargs: dict, uids: list[int]) -> list:
    with ImapSession(login, **session_kwargs) as session:
        session.select("INBOX")
        return list(session.fetch_messages(uids))


def test_a_message_over_the_size_limit_keeps_its_headers_and_is_marked(serve, settings):
    settings.IMAP_MAX_LITERAL_BYTES = LIMIT
    big = message("Holiday photos", b"x" * (3 * LIMIT))
    server, login, kwargs = serve({1: message("first"), 2: big, 3: message("third")})
    fetched = fetch_all(login, kwargs, [1, 2, 3])
    assert [m.uid for m in fetched] == [1, 2, 3]
    assert fetched[1].raw == big.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert fetched[1].size == len(big)
    assert "over the limit of 1.0 MB" in fetched[1].defect and "only its headers" in fetched[1].defect
    assert fetched[0].raw == message("first") and not fetched[0].defect and not fetched[2].defect
    # An honest server was asked for no more than one byte over the limit, and sent no more.
    assert b"BODY.PEEK[]<0.%d>" % (LIMIT + 1) in b"".join(server.ended(0).commands)
    assert server.ended(0).sent < 2 * LIMIT
    assert len(server.connections) == 1


def test_a_huge_literal_is_never_read_and_the_other_messages_still_come(serve, settings):
    settings.IMAP_MAX_LITERAL_BYTES = LIMIT
    hostile = flood(b"* 2 FETCH (UID 2 FLAGS (\\Seen) RFC822.SIZE %d BODY[] {%d}\r\n" % (HUGE, HUGE))
    server, login, kwargs = serve({1: message("first"), 2: b"", 3: message("third")}, hostile_fetch={2: hostile})
    tracemalloc.start()
    try:
        fetched = fetch_all(login, kwargs, [1, 2, 3])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [m.uid for m in fetched] == [1, 2, 3]
    assert fetched[1].raw == b"" and fetched[1].flags == ("\\Seen",) and fetched[1].size == 2**31 - 1
    assert "announced this message as 95,367.4 MB" in fetched[1].defect and "not read" in fetched[1].defect
    assert fetched[2].raw == message("third")
    first, second = server.ended(0), server.ended(1)
    assert first.hung_up and first.sent < BUFFERS  # the client hung up instead of reading
    assert b"UID FETCH 3 " in b"".join(second.commands) and b"UID FETCH 1" not in b"".join(second.commands)
    assert peak < BUFFERS


def test_a_huge_literal_outside_a_message_fetch_ends_the_connection(serve, settings):
    settings.IMAP_MAX_LITERAL_BYTES = LIMIT
    server, login, kwargs = serve({1: message("first")},
                                  hostile_command={b"LIST": flood(b'* LIST () "/" {%d}\r\n' % HUGE)})
    with ImapSession(login, **kwargs) as session, pytest.raises(ImapError) as failure:
        session.list_folders()
    assert "announced 95,367.4 MB in one response, over the limit of 1.0 MB" in failure.value.message
    assert server.ended(0).hung_up and server.ended(0).sent < BUFFERS


@pytest.mark.parametrize("command", [b"UID FETCH", b"UID SEARCH"])
def test_an_endless_line_ends_the_connection(serve, monkeypatch, command):
    monkeypatch.setattr(imap_wire, "MAX_LINE", LIMIT)
    head = b"* 1 FETCH (UID 1 FLAGS (" if command == b"UID FETCH" else b"* SEARCH 1"
    server, login, kwargs = serve({1: message("first")}, hostile_command={command: flood(head, b" 1" * 32768)})
    with ImapSession(login, **kwargs) as session, pytest.raises(ImapError) as failure:
        session.select("INBOX")
        if command == b"UID FETCH":
            list(session.fetch_messages([1]))
        else:
            session.search()
    assert failure.value.message == "The IMAP server sent a line longer than 1.0 MB; the connection was closed."
    assert server.ended(0).hung_up and server.ended(0).sent < LIMIT + BUFFERS


@pytest.mark.parametrize("command", [b"LIST", b"UID SEARCH"])
def test_an_endless_answer_ends_the_connection(serve, monkeypatch, command):
    monkeypatch.setattr(imap_wire, "MAX_ANSWER", LIMIT)
    line = b'* LIST () "/" Folder\r\n' if command == b"LIST" else b"* SEARCH 1 2 3\r\n"
    server, login, kwargs = serve({1: message("first")}, hostile_command={command: flood(line, line * 1000)})
    with ImapSession(login, **kwargs) as session, pytest.raises(ImapError) as failure:
        if command == b"LIST":
            session.list_folders()
        else:
            session.select("INBOX")
            session.search()
    assert "answered one command with more than 1.0 MB; the connection was closed." in failure.value.message
    assert server.ended(0).hung_up and server.ended(0).sent < LIMIT + BUFFERS


def test_crafted_answers_take_time_linear_in_their_length(serve):
    """STATUS items and FLAGS were found by patterns that rescanned the rest of the line from every
    start: a long run of letters, or FLAGS without its closing parenthesis, took seconds to hours."""
    status = b"* STATUS INBOX (UIDVALIDITY 7 " + b"A" * 40_000 + b")\r\n"
    flags = b"* 1 FETCH (UID 1 " + b"FLAGS (" * 15_000 + b")\r\n"
    server, login, kwargs = serve({1: message("first")})
    server.hostile_command[b"STATUS"] = lambda send, tag: send(status + tag + b" OK done\r\n")
    with ImapSession(login, **kwargs) as session:
        started = time.perf_counter()
        try:
            session.status("INBOX")
        except ImapError:
            pass  # the fake hangs up after its answer
        assert time.perf_counter() - started < 1.0
    started = time.perf_counter()
    fetched_message(flags, b"x")
    assert time.perf_counter() - started < 1.0


def test_numbers_a_server_makes_up_are_bounded():
    head = b"* 1 FETCH (UID 5 RFC822.SIZE 99999999999999999 BODY[] {1}\r\n"
    assert fetched_message(head, b"x").size == 2**31 - 1  # Email.size is a 32-bit column
    assert fetched_message(b"* 1 FETCH (UID " + b"9" * 5000 + b" BODY[] {1}\r\n", b"x") is None
    assert imap_wire.literal_size(b"* 1 FETCH (BODY[] {" + b"9" * 5000 + b"}\r\n") > 2**40


def test_a_search_answer_with_a_huge_number_is_not_a_crash(serve):
    server, login, kwargs = serve({1: message("first")})
    server.hostile_command[b"UID SEARCH"] = lambda send, tag: send(b"* SEARCH 3 " + b"9" * 5000 + b" 4\r\n" + tag
                                                                   + b" OK done\r\n")
    with ImapSession(login, **kwargs) as session:
        session.select("INBOX")
        assert session.search() == [3, 4]
