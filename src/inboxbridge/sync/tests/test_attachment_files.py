"""Attachment contents in files or in the database, and a disk that fills up mid-sync: the sync
stops with a clear reason, stores nothing half, and the next run after freeing space ends with
every message and every attachment."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from inboxbridge.mail.blobs import attachment_store, blob_bytes
from inboxbridge.mail.models import Attachment, Blob, Email
from inboxbridge.sync import engine
from inboxbridge.sync.tests.helpers import SyncCase, append, assert_in_step, make_message

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]

HELPER = pytest.mark.parametrize("helper", [False, True], ids=["in-process", "helper-process"])


def fill_inbox(case: SyncCase, count: int, size: int) -> dict[str, bytes]:
    contents = {}
    for n in range(count):
        data = os.urandom(size)
        contents[f"part{n}.bin"] = data
        append(case.client, "INBOX", make_message(f"With attachment {n}", attachment=(f"part{n}.bin", data)))
    return contents


def assert_every_attachment_readable(contents: dict[str, bytes]) -> None:
    for part in Attachment.objects.select_related("blob"):
        assert part.blob is not None and blob_bytes(part.blob) == contents[part.filename]


@pytest.mark.parametrize("where", ["files", "database"])
@HELPER
def test_contents_go_to_the_chosen_store(sync_case: SyncCase, settings: Any, tmp_path: Path,
                                         where: str, helper: bool) -> None:
    settings.ATTACHMENT_STORE, settings.ATTACHMENTS_DIR = where, tmp_path / "attachments"
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1 if helper else 10_000
    contents = fill_inbox(sync_case, 3, 20_000)
    append(sync_case.client, "INBOX", make_message("Same file again", attachment=("part0.bin", contents["part0.bin"])))

    assert engine.sync_mailbox(sync_case.mailbox.pk).error == ""

    assert Attachment.objects.count() == 4 and Blob.objects.count() == 3  # stored once by content
    assert_every_attachment_readable(contents)
    in_files = set(Blob.objects.filter(data__isnull=True).values_list("sha256", flat=True))
    on_disk = {p.name for p in (tmp_path / "attachments").glob("??/*")}
    if where == "files":
        assert in_files == on_disk == set(Blob.objects.values_list("sha256", flat=True))
    else:
        assert not in_files and not on_disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system of 256 KB for the attachment files (tmpfs; the tests run as root, as the
    test command that installs Dovecot does)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@HELPER
def test_a_full_attachment_disk_stops_the_sync_and_loses_nothing(sync_case: SyncCase, settings: Any,
                                                                 small_disk: Path, helper: bool) -> None:
    settings.ATTACHMENT_STORE, settings.ATTACHMENTS_DIR = "files", small_disk
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1 if helper else 10_000
    settings.SYNC_BATCH_SIZE = 2
    contents = fill_inbox(sync_case, 8, 60_000)  # 480 KB of attachments for a 256 KB disk

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert "The disk holding attachment files is full" in result.error and not result.complete
    mailbox = sync_case.refresh()
    assert mailbox.state == mailbox.State.ERROR and "disk holding attachment files is full" in mailbox.last_error
    assert Email.objects.count() < 8
    assert_every_attachment_readable(contents)  # what was committed is whole
    assert not list(small_disk.glob("??/*.tmp"))

    subprocess.run(["mount", "-o", "remount,size=2m", str(small_disk)], check=True)  # space freed
    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and Email.objects.count() == 8
    assert_every_attachment_readable(contents)
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page limit stands in for a full disk")
@pytest.mark.django_db(transaction=True)  # autocommit, as in production: SQLITE_FULL ends the transaction
def test_a_full_database_disk_stops_the_sync_and_loses_nothing(sync_case: SyncCase, settings: Any) -> None:
    settings.ATTACHMENT_STORE = "database"
    settings.SYNC_BATCH_SIZE = 2
    contents = fill_inbox(sync_case, 8, 60_000)
    with connection.cursor() as cursor:
        # Earlier tests leave free pages behind, which the sync would fill without growing the file.
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        # SQLite answers SQLITE_FULL ("database or disk is full") past this, as on a full disk.
        cursor.execute(f"PRAGMA max_page_count = {pages + 20}")
    try:
        result = engine.sync_mailbox(sync_case.mailbox.pk)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA max_page_count = 4294967294")

    assert result.error == engine.DISK_FULL_MESSAGE
    assert Email.objects.count() < 8
    assert_every_attachment_readable(contents)

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and Email.objects.count() == 8
    assert_every_attachment_readable(contents)
    assert attachment_store() is None
