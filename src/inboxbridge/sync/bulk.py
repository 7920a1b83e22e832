"""Plain multi-row inserts for the sync's hot path, on SQLite and PostgreSQL alike.

`bulk_create` spends more time preparing each value of each field than the database spends
storing the row (a first sync inserts hundreds of thousands of values). Here the caller hands
ready values; only the types the driver cannot take as they are (JSON, aware datetimes on
SQLite) go through Django's own adapters, so the columns hold exactly what the ORM would write.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.db import connection, models

from inboxbridge.sync.pipeline import JsonText

logger = logging.getLogger(__name__)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        ready = _json_text_adapter()

        def adapt(value: Any) -> Any:
            if isinstance(value, JsonText):
                return ready(value)
            return ops.adapt_json_value(value, encoder)

        return adapt
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    return None


def _json_text_adapter() -> Callable[[JsonText], Any]:
    """How to hand JSON text serialized in advance (pipeline.JsonText) to the driver."""
    if connection.vendor == "postgresql":
        # Here: psycopg is an optional dependency (the `postgres` extra), installed only with PostgreSQL.
        from psycopg.types.json import Jsonb

        return lambda text: Jsonb(text, dumps=str)  # the text is the JSON already
    if connection.vendor == "sqlite":
        return str
    encoder_free = connection.ops.adapt_json_value
    return lambda text: encoder_free(json.loads(text), None)


def insert_rows(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    skip_conflicts_on: Sequence[str] = (),
    rows_per_statement: int = 1,
) -> None:
    """INSERT the rows, given as values in `names` order. With `skip_conflicts_on`, rows clashing
    with a unique constraint on those fields are skipped.

    One statement per row (the driver loops in C) by default. `rows_per_statement` > 1 packs
    rows into multi-row statements, for a table with an insert trigger that writes to SQLite's
    full-text index: FTS5 flushes its pending terms at the end of every statement, so one row
    per statement wrote a tiny index segment per message and then merged them all (three times
    the indexing CPU, docs/benchmarks.md, "Sync")."""
    fields = [_field(model, name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    conflict = ""
    if skip_conflicts_on:
        target = ", ".join(quote(str(_field(model, name).column)) for name in skip_conflicts_on)
        conflict = f" ON CONFLICT ({target}) DO NOTHING"

    def statement(count: int) -> str:
        # Identifiers come from the model's metadata; every value travels as a parameter.
        marks = ", ".join([row_marks] * count)
        return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {marks}{conflict}"  # noqa: S608

    adapters = [_adapter(field) for field in fields]
    if any(adapters):
        rows = [[a(v) if a is not None and v is not None else v for a, v in zip(adapters, row, strict=True)]
                for row in rows]
    rows = list(rows)
    per = max(1, min(rows_per_statement, (connection.features.max_query_params or 999) // max(1, len(fields))))
    with connection.cursor() as cursor:
        if per == 1:
            cursor.executemany(statement(1), rows)
            return
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            cursor.execute(statement(len(chunk)), [value for row in chunk for value in row])


def raise_latest(model: type[models.Model], name: str, values: dict[int, Any]) -> None:
    """Set a datetime column to the given value per primary key, unless it already holds a later one."""
    if not values:
        return
    quote = connection.ops.quote_name
    column, table = quote(str(_field(model, name).column)), quote(model._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    sql = (f"UPDATE {table} SET {column} = %s WHERE {quote(str(model._meta.pk.column))} = %s "  # noqa: S608
           f"AND ({column} IS NULL OR {column} < %s)")
    with connection.cursor() as cursor:
        cursor.executemany(sql, [(adapt(when), pk, adapt(when)) for pk, when in values.items()])


# SQLite's page cache for the sync's connection while it writes (the default is 2 MB). A batch
# with its attachments (up to engine.BATCH_BYTES) must fit, or SQLite spills pages to the WAL
# mid-transaction, and the indexes of a big mailbox must stay in it, or every insert reads pages
# back from the file.
SYNC_CACHE_KIB = 32 * 1024
# Past this size the WAL is started over from its beginning (see _Checkpointer).
WAL_RESTART_BYTES = 64 * 1024 * 1024


class BulkWrites:
    """What the writer tells `sqlite_bulk_writes` between its transactions."""

    def __init__(self, checkpointer: _Checkpointer | None = None) -> None:
        self._checkpointer = checkpointer

    def committed(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed()


class _Checkpointer:
    """Copies the WAL into the database from its own thread, right after each commit, so the
    copying and its fsyncs overlap the writer's next batch (SQLite's automatic checkpoint would
    run inside the writer's commits; PASSIVE checkpoints never block the writer or readers).

    SQLite writes the WAL from its beginning again only when a transaction begins with every
    frame already copied; a checkpointer always one batch behind never gets there, and the WAL
    grows to the size of the whole sync. Every frame then lands in a newly allocated file block,
    which the kernel zeroes first (measured on a first sync: more CPU than copying the data). So
    once the WAL passes WAL_RESTART_BYTES, the writer waits after its commit until that commit
    is copied too: its next transaction starts the WAL over, in blocks already in the page cache.
    A reader holding an old snapshot can keep a checkpoint from completing; the writer then stops
    waiting until one completes again (the WAL grows meanwhile, nothing worse)."""

    RETRY_SECONDS = 0.25
    MAX_WAIT_SECONDS = 2.0

    def __init__(self, path: str) -> None:
        self._path = path
        self._changed = threading.Condition()
        self._commits = 0  # commits the writer reported
        self._copied = 0  # commits known to be wholly in the database file
        self._tried = 0  # commits the last checkpoint started after
        self._wal_bytes = 0  # how far the WAL was filled at the last checkpoint
        self._waits_pay = True  # False after a wait timed out, until a checkpoint completes
        self._stopping = False
        self._failed = False
        self._thread = threading.Thread(target=self._run, name="inboxbridge-wal-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        with self._changed:
            self._commits += 1
            goal = self._commits
            self._changed.notify_all()
            if self._failed or not self._waits_pay or self._wal_bytes < WAL_RESTART_BYTES:
                return
            done = self._changed.wait_for(lambda: self._copied >= goal or self._failed or self._stopping,
                                          timeout=self.MAX_WAIT_SECONDS)
            if not done:
                self._waits_pay = False

    def _run(self) -> None:
        db = sqlite3.connect(self._path, timeout=30, check_same_thread=False)
        try:
            frame_bytes = int(db.execute("PRAGMA page_size").fetchone()[0]) + 24  # + frame header
            while True:
                with self._changed:
                    # A new commit to copy; or, while some are not wholly copied, a retry now and then.
                    self._changed.wait_for(self._has_news,
                                           timeout=self.RETRY_SECONDS if self._copied < self._commits else None)
                    target = self._tried = self._commits
                    stopping = self._stopping
                busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                with self._changed:
                    self._wal_bytes = max(int(frames), 0) * frame_bytes
                    if not busy and frames == copied:
                        self._copied = max(self._copied, target)
                        self._waits_pay = True
                    self._changed.notify_all()
                if stopping:
                    return
        except sqlite3.Error as exc:  # SQLite's own checkpoints take over again after the sync
            logger.warning("Background WAL checkpoint stopped: %s", exc)
            with self._changed:
                self._failed = True
                self._changed.notify_all()
        finally:
            db.close()

    def _has_news(self) -> bool:
        return self._commits > self._tried or self._stopping

    def stop(self) -> None:
        """Copy what is left and end the thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()


@contextmanager
def sqlite_bulk_writes() -> Iterator[BulkWrites]:
    """Tune SQLite (in WAL mode) for a long run of writes, then put everything back: a bigger
    page cache for this connection, and WAL checkpoints from a thread (_Checkpointer) instead of
    inside the sync's commits. The writer calls `committed()` on what this yields after each
    commit. Other databases, and SQLite outside WAL mode, are left as they are."""
    path = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or not path or path == ":memory:" or "mode=memory" in path:
        yield BulkWrites()
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            yield BulkWrites()
            return
        cursor.execute("PRAGMA wal_autocheckpoint")
        row = cursor.fetchone()
        previous_checkpoint = int(row[0]) if row else 1000
        cursor.execute("PRAGMA cache_size")
        row = cursor.fetchone()
        previous_cache = int(row[0]) if row else -2000
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute(f"PRAGMA cache_size=-{SYNC_CACHE_KIB}")
    checkpointer = _Checkpointer(path)
    try:
        yield BulkWrites(checkpointer)
    finally:
        checkpointer.stop()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(previous_checkpoint)}")
            cursor.execute(f"PRAGMA cache_size={int(previous_cache)}")
