"""Fetched messages -> `Incoming` rows: MIME parsing, the CPU-heavy half of a sync.

Small runs parse in-process (`prepared`). Big runs (a first sync) fetch and parse in helper
processes (`Producer`, one IMAP connection each, sharing the UIDs: `share_out`) while the sync's
own process writes to the database: parsing and database writes then overlap instead of taking
turns, and no single parsing process is the slowest link. Each helper is started with
a fresh interpreter (forking a process that may run web or worker threads is unsafe), imports no
Django models and never touches the database; it gets the login (the credential stays inside
`ServerLogin.secret`, passed in memory to our own child) and sends back ready batches.
Backpressure is the pipe itself: the helper blocks while the writer is busy, so neither side
holds more than a batch or two.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from inboxbridge.lib.content_store import ContentStore, ContentStoreError, Staged
from inboxbridge.lib.mime import (
    SYNTHETIC_ID_DOMAIN,
    ParsedMessage,
    ParseLimits,
    parse_message,
    synthetic_message_id,
)

if TYPE_CHECKING:
    from inboxbridge.mailserver.imap import FetchedMessage
    from inboxbridge.mailserver.login import ServerLogin


class JsonText(str):
    """A value already serialized to JSON, exactly as Django's JSONField would (json.dumps with
    its defaults): done where the message is parsed, off the database writer's busy thread."""


def _clean(text: str) -> str:
    # PostgreSQL refuses NUL in text and \u0000 in jsonb.
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _json(value: object) -> JsonText:
    return JsonText(json.dumps(value))


@dataclass(slots=True)
class Incoming:
    """A fetched message made ready for the database."""

    uid: int
    flags: tuple[str, ...]
    internaldate: datetime | None
    size: int
    parsed: ParsedMessage
    message_id: str  # the Message-ID, or a synthetic one for mail without
    content_hash: str
    json_fields: tuple[JsonText, ...] = ()  # Email.to, cc, bcc, reply_to, headers, defects
    # True: the attachments' contents are already in the attachment files (their data is None).
    contents_in_files: bool = False


def prepare(message: FetchedMessage, limits: ParseLimits) -> Incoming:
    parsed = parse_message(message.raw, max_attachment_size=limits.attachment_bytes,
                           max_body_bytes=limits.body_bytes, max_parts=limits.parts)
    if message.defect:  # over the size limit: its headers (or nothing) were fetched
        parsed.defects.append(message.defect)
        parsed.truncated = True
    message_id = parsed.message_id or _synthetic_id(message)
    json_fields = (
        *(_json([[_clean(a.name), _clean(a.address)] for a in group])
          for group in (parsed.to, parsed.cc, parsed.bcc, parsed.reply_to)),
        _json([[_clean(name), _clean(value)] for name, value in parsed.headers]),
        _json([_clean(defect) for defect in parsed.defects]),
    )
    return Incoming(message.uid, message.flags, message.internaldate, message.size, parsed, message_id,
                    content_hash(parsed), json_fields)


def _synthetic_id(message: FetchedMessage) -> str:
    if message.raw:
        return synthetic_message_id(message.raw)
    # Nothing of it was read (over the size limit): two such messages must not become one Email.
    received = int(message.internaldate.timestamp()) if message.internaldate else 0
    return f"unread.{message.uid}.{message.size}.{received}@{SYNTHETIC_ID_DOMAIN}"


def content_hash(parsed: ParsedMessage) -> str:
    """What the message says, not how it travelled: two copies of one message differ in their
    Received headers and line endings, not in their texts and attachments."""
    digest = hashlib.sha256()
    digest.update(parsed.subject.encode("utf-8", "replace") + b"\0")
    digest.update(parsed.text.replace("\r\n", "\n").strip().encode("utf-8", "replace") + b"\0")
    digest.update(parsed.html.replace("\r\n", "\n").strip().encode("utf-8", "replace") + b"\0")
    for attachment in parsed.attachments:
        digest.update(f"{attachment.sha256}:{attachment.size}\0".encode())
    return digest.hexdigest()


def move_contents_to_files(incoming: Incoming, put: Callable[[str, bytes], object]) -> Incoming:
    """Hand each attachment's content to `put` (ContentStore.put, or a queued call of it) and
    drop it from the message: only the digests travel on to the database."""
    parts = incoming.parsed.attachments
    for part in parts:
        if part.data is not None and not part.omitted:
            put(part.sha256, part.data)
    incoming.parsed.attachments = [replace(part, data=None) if part.data is not None else part for part in parts]
    incoming.contents_in_files = True
    return incoming


def prepared(messages: Iterable[FetchedMessage], limits: ParseLimits,
             files: ContentStore | None = None) -> Iterator[Incoming]:
    for message in messages:
        incoming = prepare(message, limits)
        yield move_contents_to_files(incoming, files.put) if files is not None else incoming


# -- the helper process ------------------------------------------------------------------------

# Messages per batch sent to the writer; a batch also ends at SEND_BYTES of mail.
SEND_COUNT = 50
SEND_BYTES = 8 * 1024 * 1024
# UIDs dealt to one helper at a time when several share a sync (one UID FETCH command's worth).
SHARE_RUN = 100
# Batches the writer's process holds ahead of the one it stores (memory: AHEAD x SEND_BYTES).
AHEAD = 3


@dataclass(frozen=True)
class Job:
    login: ServerLogin  # Django-free: the helper gets the writer's login as it is
    ca_bundle: str
    timeout: float
    limits: ParseLimits
    folders: Sequence[tuple[int, str, Sequence[int]]]  # (folder_id, name, UIDs to fetch)
    attachments_dir: str = ""  # write attachment contents there (the files store), else send them
    send_bytes: int = SEND_BYTES  # a batch ends at this much mail (shared out when several helpers run)
    # The most bytes of one message read (INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES), taken from the
    # writer's settings when the job is made: the helper has none of its own.
    max_message_size: int = field(default_factory=lambda: _setting("IMAP_MAX_LITERAL_BYTES"))


def parse_limits() -> ParseLimits:
    """The limits of one message read by this deployment's sync (the writer's settings)."""
    return ParseLimits(attachment_bytes=_setting("ATTACHMENT_MAX_BYTES"), body_bytes=_setting("BODY_MAX_BYTES"),
                       parts=_setting("MESSAGE_MAX_PARTS"))


def _setting(name: str) -> Any:
    from django.conf import settings  # here: the helper process starts without Django's settings

    return getattr(settings, name)


@dataclass(frozen=True)
class Failure:
    message: str
    auth_failed: bool
    transient: bool


class _FileWrites:
    """Attachment files written by threads while the helper parses on (the kernel's copy into the
    page cache runs beside the parsing) and made durable a batch at a time, also in the
    background: `publish` flushes the whole batch at once (docs/benchmarks.md, "Sync")."""

    THREADS = 2

    def __init__(self, store: ContentStore) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="inboxbridge-files")
        self._pending: list[Future[Staged | None]] = []
        self._publishing: list[Future[None]] = []

    def put(self, sha256: str, data: bytes) -> None:
        self._pending.append(self._pool.submit(self._store.stage, sha256, data))

    def publish(self) -> Future[None]:
        """Starts making the files put since the last call durable. The future raises the first
        failure (ContentStoreError); the batch is then not sent, and its files not yet named are
        removed (any already named are complete, and swept later if nothing uses them)."""
        pending, self._pending = self._pending, []
        # The pool runs tasks in order, so the writes this waits for are running or done already.
        future = self._pool.submit(self._publish, pending)
        self._publishing.append(future)
        return future

    def _publish(self, pending: list[Future[Staged | None]]) -> None:
        staged: list[Staged] = []
        failure: ContentStoreError | None = None
        for future in pending:
            try:
                item = future.result()
            except ContentStoreError as exc:
                failure = failure or exc
                continue
            if item is not None:
                staged.append(item)
        if failure is not None:
            self._store.discard(staged)
            raise failure
        self._store.publish(staged)

    def close(self) -> None:
        """Waits for the threads; files of a batch that was never published are removed."""
        for future in self._publishing:
            future.exception()
        self._pool.shutdown(wait=True, cancel_futures=True)
        unpublished = [f.result() for f in self._pending if not f.cancelled() and f.exception() is None]
        self._store.discard([item for item in unpublished if item is not None])


class _Outbox:
    """Sends the writer its items in order, each batch only once its attachment files are
    durable, so the writer never commits a row naming a missing file. A batch is held while its
    files are flushed and the next one is parsed; it goes out when the next one is ready."""

    def __init__(self, out: BinaryIO, files: _FileWrites | None) -> None:
        self._out = out
        self._files = files
        self._held: tuple[int, list[Incoming], Future[None] | None] | None = None

    def batch(self, folder_id: int, batch: list[Incoming]) -> None:
        publishing = self._files.publish() if self._files is not None else None
        self.release()
        self._held = (folder_id, batch, publishing)

    def send(self, item: object) -> None:
        self.release()
        self._write(item)

    def release(self) -> None:
        """Sends the held batch (after waiting for its files); raises ContentStoreError."""
        held, self._held = self._held, None
        if held is not None:
            folder_id, batch, publishing = held
            if publishing is not None:
                publishing.result()
            self._write((folder_id, batch))

    def _write(self, item: object) -> None:
        pickle.dump(item, self._out, protocol=pickle.HIGHEST_PROTOCOL)
        self._out.flush()

    def fail(self, failure: Failure) -> None:
        """Reports a failure after the batch still held, whose messages are complete."""
        try:
            self.release()
        except ContentStoreError as exc:
            failure = Failure(exc.message, False, True)
        self._write(failure)


def _produce(job: Job, out: BinaryIO) -> None:
    """The child's work: fetch and parse every planned folder, writing pickled items to `out`."""
    from django.conf import settings  # here and below: the helper configures settings before the door loads

    if not settings.configured:
        settings.configure(CA_BUNDLE=job.ca_bundle, MAIL_NETWORK_TIMEOUT=job.timeout)
    from inboxbridge.mailserver.imap import ImapError, ImapSession

    files = _FileWrites(ContentStore(job.attachments_dir)) if job.attachments_dir else None
    outbox = _Outbox(out, files)
    try:
        with ImapSession(job.login, timeout=job.timeout, max_message_size=job.max_message_size) as session:
            for folder_id, name, uids in job.folders:
                session.select(name)
                batch: list[Incoming] = []
                size = 0
                for message in session.fetch_messages(uids):
                    incoming = prepare(message, job.limits)
                    batch.append(move_contents_to_files(incoming, files.put) if files is not None else incoming)
                    size += len(message.raw)
                    if len(batch) >= SEND_COUNT or size >= job.send_bytes:
                        outbox.batch(folder_id, batch)
                        batch, size = [], 0
                if batch:
                    outbox.batch(folder_id, batch)
                outbox.send((folder_id, None))  # the folder is done
    except ImapError as exc:
        outbox.fail(Failure(exc.message, exc.auth_failed, exc.transient))
    except ContentStoreError as exc:
        outbox.fail(Failure(exc.message, False, True))
    except BrokenPipeError:
        pass  # the writer stopped us
    except Exception as exc:  # reported, not raised: the writer decides what a failure means
        outbox.fail(Failure(f"Unexpected error while fetching ({exc.__class__.__name__}): {exc}", False, False))
    finally:
        if files is not None:
            files.close()


_END = object()


def share_out(
    folders: Sequence[tuple[int, str, Sequence[int]]], helpers: int, *, run: int | None = None
) -> list[list[tuple[int, str, Sequence[int]]]]:
    """The folders' UIDs shared among `helpers` helper processes, dealt in turns of `run` UIDs,
    so that every helper fetches from the oldest end of each folder at once and the folder's safe
    position (the UIDs stored without a gap) keeps moving. Only the helpers that got any."""
    run = run or SHARE_RUN
    shares: list[list[tuple[int, str, Sequence[int]]]] = [[] for _ in range(max(helpers, 1))]
    turn = 0
    for folder_id, name, uids in folders:
        parts: list[list[int]] = [[] for _ in shares]
        for start in range(0, len(uids), run):
            parts[turn % len(shares)].extend(uids[start : start + run])
            turn += 1
        for share, part in zip(shares, parts, strict=True):
            if part:
                share.append((folder_id, name, part))
    return [share for share in shares if share]


class _Child:
    """One helper process and the thread that drains its pipe into the shared queue."""

    def __init__(self, job: Job, into: queue.Queue[Any], stopping: threading.Event) -> None:
        self._queue, self._stopping = into, stopping
        self.process = subprocess.Popen(
            [sys.executable, "-m", "inboxbridge.sync.pipeline"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._output = self.process.stdout
        try:
            pickle.dump(job, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # the child died at once; iterating shows nothing and stop() reaps it
        self._reader = threading.Thread(target=self._read, name="inboxbridge-fetch-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while not self._stopping.is_set():
                self._put(pickle.load(self._output))  # noqa: S301 - our own child, over a private pipe
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            pass  # the child ended (or was stopped): the end of its stream
        finally:
            self._put(_END)

    def _put(self, item: object) -> None:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        self._output.close()


class Producer:
    """Runs `_produce` in child Python processes, one per job (each with its own IMAP
    connection); iterate for their (folder_id, batch | None) items, merged as they come, or a
    Failure. Plain subprocesses, not multiprocessing: nothing of the parent (its __main__, its
    threads, its database connections) is re-run or inherited.

    Reader threads drain the pipes into one short queue: the children keep fetching and parsing
    the next batches while the writer commits one (a bare 64 KB pipe would make them take turns)."""

    def __init__(self, jobs: Sequence[Job], *, ahead: int = AHEAD) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=ahead)
        self._stopping = threading.Event()
        self._children = [_Child(job, self._queue, self._stopping) for job in jobs]

    def __iter__(self) -> Iterator[Any]:
        running = len(self._children)
        while running:
            item = self._queue.get()
            if item is _END:
                running -= 1
                continue
            yield item

    def stop(self) -> None:
        """End the children now (budget spent, or the writer failed); what they fetched but did
        not send is fetched again next run."""
        self._stopping.set()
        for child in self._children:
            child.stop()


def _main() -> None:  # pragma: no cover - the child process
    job = pickle.load(sys.stdin.buffer)  # noqa: S301 - written by the parent sync process
    _produce(job, sys.stdout.buffer)


if __name__ == "__main__":
    # Run the module's importable copy: what it pickles must name inboxbridge.sync.pipeline, not __main__.
    from inboxbridge.sync.pipeline import _main as main

    main()
