"""A first sync's long run of SQLite commits: the WAL is copied into the database as the sync goes,
stays small, and a reader holding an old snapshot slows nothing down for long."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from django.db import connection, transaction

from inboxbridge.mail.models import Blob
from inboxbridge.sync import bulk

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log"),
]

CHUNK = 256 * 1024


def _commit_blobs(writes: bulk.BulkWrites, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        with transaction.atomic():
            Blob.objects.create(sha256=f"{n:064x}", size=CHUNK, data=os.urandom(CHUNK))
        writes.committed()


def _empty_wal() -> None:
    """Earlier tests leave the WAL file as big as they made it (SQLite reuses it, never shrinks it)."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert _wal_size() == 0


def _wal_size() -> int:
    try:
        return os.path.getsize(str(connection.settings_dict["NAME"]) + "-wal")
    except OSError:
        return 0


def _wal_bytes_in_use() -> int:
    """How far the WAL is filled now (its file never shrinks, the part in use does)."""
    with sqlite3.connect(str(connection.settings_dict["NAME"])) as db:
        page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
        return int(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]) * (page_size + 24)


def test_the_wal_is_started_over_instead_of_growing(monkeypatch):
    monkeypatch.setattr(bulk, "WAL_RESTART_BYTES", 1024 * 1024)
    _empty_wal()
    with bulk.sqlite_bulk_writes() as writes:
        _commit_blobs(writes, 40)  # 10 MB in all
        size_during = _wal_size()
    assert Blob.objects.count() == 40
    # Without restarts the WAL would hold all 10 MB; with them it stays near the limit.
    assert 0 < size_during < 4 * 1024 * 1024


def test_a_reader_on_an_old_snapshot_costs_one_short_wait(monkeypatch):
    monkeypatch.setattr(bulk, "WAL_RESTART_BYTES", 512 * 1024)
    monkeypatch.setattr(bulk._Checkpointer, "MAX_WAIT_SECONDS", 0.3)
    _empty_wal()
    with bulk.sqlite_bulk_writes() as writes:
        _commit_blobs(writes, 4)
        reader = sqlite3.connect(str(connection.settings_dict["NAME"]), isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM mail_blob").fetchone()  # holds its snapshot
        started = time.monotonic()
        _commit_blobs(writes, 20, start=4)
        blocked_for = time.monotonic() - started
        reader.execute("COMMIT")
        reader.close()
        _commit_blobs(writes, 20, start=24)  # restarts resume once the reader is gone
    assert Blob.objects.count() == 44
    # One wait ran out (0.3 s); the writer did not wait on every commit after it.
    assert blocked_for < 20 * 0.3
    assert _wal_bytes_in_use() < 4 * 1024 * 1024


def test_new_databases_store_16_kb_pages():
    # Attachments then fill a quarter as many pages (settings: the SQLite init_command).
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA page_size")
        assert cursor.fetchone()[0] == 16384
