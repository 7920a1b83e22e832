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
) -> None:
    """INSERT one statement per row (the driver loops in C); rows give values in `names` order.
    With `skip_conflicts_on`, rows clashing with a unique constraint on those fields are skipped."""
    fields = [_field(model, name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model's metadata; every value travels as a parameter.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    if skip_conflicts_on:
        target = ", ".join(quote(str(_field(model, name).column)) for name in skip_conflicts_on)
        sql += f" ON CONFLICT ({target}) DO NOTHING"
    adapters = [_adapter(field) for field in fields]
    if any(adapters):
        rows = [[a(v) if a is not None and v is not None else v for a, v in zip(adapters, row, strict=True)]
                for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(rows))


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


@contextmanager
def sqlite_bulk_writes(interval: float = 0.25) -> Iterator[None]:
    """Tune SQLite (in WAL mode) for a long run of writes, then put everything back:
    - a bigger page cache for this connection;
    - WAL checkpoints from a helper thread instead of inside the sync's commits (SQLite's
      automatic checkpoint runs in whichever commit crosses 1000 pages: on a first sync, most of
      them). PASSIVE checkpoints never block the writer or readers, and the thread's SQLite calls
      release the GIL.
    Other databases, and SQLite outside WAL mode, are left as they are."""
    path = str(connection.settings_dict.get("NAME") or "")
    if connection.vendor != "sqlite" or not path or path == ":memory:" or "mode=memory" in path:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()
        if not mode or str(mode[0]).lower() != "wal":
            yield
            return
        cursor.execute("PRAGMA wal_autocheckpoint")
        row = cursor.fetchone()
        previous_checkpoint = int(row[0]) if row else 1000
        cursor.execute("PRAGMA cache_size")
        row = cursor.fetchone()
        previous_cache = int(row[0]) if row else -2000
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute(f"PRAGMA cache_size=-{SYNC_CACHE_KIB}")
    stop = threading.Event()

    def checkpoint() -> None:
        db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        try:
            while not stop.wait(interval):
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:  # the commits' own checkpoints take over again afterwards
            logger.warning("Background WAL checkpoint stopped: %s", exc)
        finally:
            db.close()

    thread = threading.Thread(target=checkpoint, name="inboxbridge-wal-checkpoint", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={int(previous_checkpoint)}")
            cursor.execute(f"PRAGMA cache_size={int(previous_cache)}")
