"""The attachment files: complete or absent under their digest, never lost to a sweep that races a
writer, and crash leftovers cleaned up."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import pytest

from inboxbridge.lib.content_store import ContentStore, ContentStoreError

DAY = 24 * 3600


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_put_stores_private_files_under_their_digest(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "files")
    data = os.urandom(300_000)
    store.put(digest(data), data)

    with store.open(digest(data)) as handle:
        assert handle.read() == data
    path = store.path(digest(data))
    assert path.parent.name == digest(data)[:2]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [digest(data)]  # no temporary file left


def test_a_second_put_keeps_the_first_copy_and_refreshes_its_time(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"the same attachment"
    store.put(digest(data), data)
    path = store.path(digest(data))
    age(path, DAY)
    inode = path.stat().st_ino

    store.put(digest(data), data)

    assert path.stat().st_ino == inode  # not written again
    assert path.stat().st_mtime > time.time() - 60  # but a sweep now leaves it alone
    assert not store.keep("0" * 64)


def test_names_that_are_not_digests_are_refused(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "ab", "0" * 63 + "/"):
        with pytest.raises(ValueError):
            store.path(bad)


def test_the_sweep_deletes_only_old_files_nothing_names(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    named, orphan, fresh = b"named", b"orphan", b"fresh orphan"
    for data in (named, orphan, fresh):
        store.put(digest(data), data)
    age(store.path(digest(named)), 2 * DAY)
    age(store.path(digest(orphan)), 2 * DAY)

    deleted = store.sweep(lambda digests: {d for d in digests if d == digest(named)}, grace=DAY)

    assert deleted == 1
    assert store.keep(digest(named)) and store.keep(digest(fresh))
    assert not store.path(digest(orphan)).exists()


def test_a_file_kept_while_the_sweep_runs_survives(tmp_path: Path) -> None:
    """The race the sweep is built around: a sync reuses a file between the sweep's look at it and
    its deletion. The sync's keep() refreshes the time; the sweep sees that after setting the file
    aside and puts it back."""
    store = ContentStore(tmp_path)
    data = b"reused by a sync right now"
    store.put(digest(data), data)
    age(store.path(digest(data)), 2 * DAY)

    def no_row_yet_but_a_sync_keeps_it(digests: list[str]) -> set[str]:
        assert store.keep(digest(data))  # the sync's helper, between listing and deleting
        return set()

    assert store.sweep(no_row_yet_but_a_sync_keeps_it, grace=DAY) == 0
    with store.open(digest(data)) as handle:
        assert handle.read() == data


def test_crash_leftovers_are_cleaned_up(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    kept, abandoned = b"set aside, then kept", b"set aside, unused"
    (tmp_path / "ab").mkdir()
    half_written = tmp_path / "ab" / ("ab" + "0" * 62 + ".1234.tmp")
    half_written.write_bytes(b"half")
    age(half_written, 2 * DAY)
    for data in (kept, abandoned):
        store.put(digest(data), data)
        aside = store.path(digest(data)).with_name(digest(data) + ".sweep")
        os.replace(store.path(digest(data)), aside)  # a sweep crashed here
    age(store.path(digest(abandoned)).with_name(digest(abandoned) + ".sweep"), 2 * DAY)

    assert store.sweep(lambda digests: set(), grace=DAY) == 2

    assert not half_written.exists()
    assert store.keep(digest(kept)) and not store.keep(digest(abandoned))


@pytest.mark.parametrize("count", [2, 12], ids=["file by file", "whole file system"])
def test_staged_files_get_their_names_only_when_published(tmp_path: Path, count: int) -> None:
    store = ContentStore(tmp_path)
    contents = [os.urandom(1000 + n) for n in range(count)]
    staged = [store.stage(digest(data), data) for data in contents]

    # Written, but not under a name a database row could point at: a crash now loses nothing.
    assert all(item is not None for item in staged)
    assert not any(store.keep(digest(data)) for data in contents)
    store.publish([item for item in staged if item is not None])

    for data in contents:
        with store.open(digest(data)) as handle:
            assert handle.read() == data
    assert not list(tmp_path.glob("??/*.tmp"))
    assert store.stage(digest(contents[0]), contents[0]) is None  # stored already: nothing to write


def test_a_failed_publish_keeps_no_file_of_the_batch(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    contents = [os.urandom(500) for _ in range(6)]
    staged = [item for data in contents if (item := store.stage(digest(data), data)) is not None]
    staged[3].temporary.unlink()  # lost before its turn (an operator's cleanup, a failing disk)

    with pytest.raises(ContentStoreError, match="could not be written"):
        store.publish(staged)

    assert not list(tmp_path.glob("??/*.tmp"))
    # Those renamed before the failure stay (complete, and swept later if nothing uses them); the
    # rest are gone, and the sync sends none of the batch's rows.
    assert not store.keep(digest(contents[3]))


def test_discarded_stages_leave_nothing(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    data = b"never published"
    staged = store.stage(digest(data), data)
    assert staged is not None
    store.discard([staged])
    assert not list(tmp_path.glob("??/*"))
