"""Attachment contents as files named by their SHA-256, beside the database: the one door to them.

Why files (on a one-machine install): a first sync writes every attachment once into the file
system instead of twice (SQLite's WAL, then the database file), the sync's helper process writes
them itself instead of sending them through a pipe, and a download streams from disk. Django's
FileSystemStorage does not fit: it writes in place (a crash leaves a half file under the final
name) and renames on collision, where a content-addressed store wants the first copy to win.

Rules that keep it safe without transactions:
- `put` is atomic and durable: a temporary file, flushed to disk, renamed, and the rename
  flushed. A file under its final name is always complete. The sync's helper writes a batch's
  files with `stage` and makes them durable together with `publish` (one flush of the file
  system instead of two per file). The sync commits the database rows naming a file only after
  `put`, `publish` or `keep` returned.
- `keep` is how a writer reuses a file that is already there: it refreshes the file's time. The
  sweep deletes only files older than its grace period, and it first renames a candidate aside
  and looks at its time again, so a file someone kept meanwhile is put back, never lost.

This module imports no Django models: the sync's helper process uses it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

_SHA256 = re.compile(r"[0-9a-f]{64}")
_TEMPORARY = ".tmp"
_ASIDE = ".sweep"


class ContentStoreError(Exception):
    """A put that did not happen, with a message fit for the mailbox's owner (no paths)."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.disk_full = disk_full


@dataclass(frozen=True, slots=True)
class Staged:
    """A content written to a temporary file, waiting for `ContentStore.publish`."""

    temporary: Path
    final: Path


class ContentStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def keep(self, sha256: str) -> bool:
        """True if the content is stored; its time is refreshed so no sweep takes it now."""
        try:
            os.utime(self.path(sha256))
        except FileNotFoundError:
            return False
        return True

    def put(self, sha256: str, data: bytes) -> None:
        """Store `data` under its digest (the caller computed it), durably, unless it is there."""
        staged = self.stage(sha256, data)
        if staged is not None:
            self.publish([staged])

    def stage(self, sha256: str, data: bytes) -> Staged | None:
        """Write `data` to a temporary file beside its place, without waiting for the disk; None
        when the content is already stored (its time is refreshed). `publish` names it."""
        if self.keep(sha256):
            return None
        final = self.path(sha256)
        directory = final.parent
        temporary = directory / f"{sha256}.{secrets.token_hex(6)}{_TEMPORARY}"
        try:
            if not directory.is_dir():
                self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
                directory.mkdir(mode=0o700, exist_ok=True)
                _fsync_directory(directory.parent)
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise _failure(exc) from None
        return Staged(temporary, final)

    def publish(self, staged: Sequence[Staged]) -> None:
        """Make staged files durable under their final names. The contents reach the disk before
        any name does, so a crash never leaves a name on a half-written file. Many files at once
        cost one flush of the file system for the contents and one for the names (`syncfs`,
        where the system has it) instead of two flushes per file. On failure the staged files
        are removed and ContentStoreError says why."""
        if not staged:
            return
        try:
            syncfs = _syncfs if len(staged) >= _SYNCFS_FROM else None
            if syncfs is not None:
                self._sync_file_system(syncfs)
            else:
                for item in staged:
                    _fdatasync_file(item.temporary)
            for item in staged:
                os.replace(item.temporary, item.final)
            if syncfs is not None:
                self._sync_file_system(syncfs)
            else:
                for directory in sorted({item.final.parent for item in staged}):
                    _fsync_directory(directory)
        except OSError as exc:
            self.discard(staged)
            raise _failure(exc) from None

    def discard(self, staged: Sequence[Staged]) -> None:
        """Remove staged files that will not be published (a later step failed)."""
        for item in staged:
            item.temporary.unlink(missing_ok=True)

    def _sync_file_system(self, syncfs: Callable[[int], int]) -> None:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if syncfs(fd) != 0:
                code = ctypes.get_errno()
                raise OSError(code, os.strerror(code))
        finally:
            os.close(fd)

    def open(self, sha256: str) -> BinaryIO:
        """The stored content for reading; FileNotFoundError if it is not there."""
        return open(self.path(sha256), "rb")

    def digests(self) -> Iterator[tuple[str, float]]:
        """(digest, modification time) of every stored file."""
        if not self.root.is_dir():
            return
        for directory in sorted(self.root.iterdir()):
            if len(directory.name) != 2 or not directory.is_dir():
                continue
            with os.scandir(directory) as entries:
                for entry in entries:
                    if _SHA256.fullmatch(entry.name):
                        try:
                            yield entry.name, entry.stat().st_mtime
                        except FileNotFoundError:
                            continue

    def sweep(self, in_use: Callable[[list[str]], set[str]], *, grace: float, batch: int = 500) -> int:
        """Delete files older than `grace` seconds that `in_use` (given digests, returns those still
        referenced) does not claim, and temporary files a crash left behind; returns how many."""
        cutoff = time.time() - grace
        deleted = 0
        candidates: list[str] = []
        for sha256, modified in self.digests():
            if modified < cutoff:
                candidates.append(sha256)
            if len(candidates) >= batch:
                deleted += self._sweep_batch(candidates, in_use, cutoff)
                candidates = []
        deleted += self._sweep_batch(candidates, in_use, cutoff)
        return deleted + self._sweep_leftovers(cutoff)

    def _sweep_batch(self, candidates: list[str], in_use: Callable[[list[str]], set[str]], cutoff: float) -> int:
        if not candidates:
            return 0
        used = in_use(candidates)
        deleted = 0
        for sha256 in candidates:
            if sha256 in used:
                continue
            final = self.path(sha256)
            aside = final.with_name(sha256 + _ASIDE)
            try:
                os.replace(final, aside)
            except FileNotFoundError:
                continue
            # Kept between our look and the rename? Then it goes back: a writer counts on it.
            if os.stat(aside).st_mtime >= cutoff:
                os.replace(aside, final)
                continue
            aside.unlink()
            deleted += 1
        return deleted

    def _sweep_leftovers(self, cutoff: float) -> int:
        """Temporary files of crashed writers go; a file a crashed sweep had set aside goes back
        if it was kept meanwhile, else it goes too."""
        deleted = 0
        if not self.root.is_dir():
            return 0
        for leftover in [*self.root.glob(f"??/*{_TEMPORARY}"), *self.root.glob(f"??/*{_ASIDE}")]:
            try:
                if leftover.name.endswith(_ASIDE) and leftover.stat().st_mtime >= cutoff:
                    os.replace(leftover, leftover.with_name(leftover.name[: -len(_ASIDE)]))
                elif leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    deleted += 1
            except FileNotFoundError:
                continue
        return deleted


def _failure(exc: OSError) -> ContentStoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ContentStoreError(
            "The disk holding attachment files is full: this batch was not stored and nothing "
            "was lost. Free some space; the next sync carries on from here.", disk_full=True
        )
    return ContentStoreError(
        f"An attachment file could not be written ({exc.strerror or exc.__class__.__name__}). "
        "Nothing was lost; the next sync tries again."
    )


def _find_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2), which Python's os module does not offer; None elsewhere."""
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return cast(Callable[[int], int], function)


_syncfs = _find_syncfs()
# Below this many files, flushing each one costs less than flushing the whole file system.
_SYNCFS_FROM = 4


def _fdatasync_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
