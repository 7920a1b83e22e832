"""Attachment contents as files named by their SHA-256, beside the database: the one door to them.

Why files (on a one-machine install): a first sync writes every attachment once into the file
system instead of twice (SQLite's WAL, then the database file), the sync's helper process writes
them itself instead of sending them through a pipe, and a download streams from disk. Django's
FileSystemStorage does not fit: it writes in place (a crash leaves a half file under the final
name) and renames on collision, where a content-addressed store wants the first copy to win.

Rules that keep it safe without transactions:
- `put` is atomic and durable: a temporary file, fdatasync, rename, fsync of the directory. A
  file under its final name is always complete. The sync commits the database rows naming a
  file only after `put` or `keep` returned.
- `keep` is how a writer reuses a file that is already there: it refreshes the file's time. The
  sweep deletes only files older than its grace period, and it first renames a candidate aside
  and looks at its time again, so a file someone kept meanwhile is put back, never lost.

This module imports no Django models: the sync's helper process uses it.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"[0-9a-f]{64}")
_TEMPORARY = ".tmp"
_ASIDE = ".sweep"


class ContentStoreError(Exception):
    """A put that did not happen, with a message fit for the mailbox's owner (no paths)."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.disk_full = disk_full


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
        if self.keep(sha256):
            return
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
                os.fdatasync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, final)
            _fsync_directory(directory)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise ContentStoreError(
                    "The disk holding attachment files is full: this batch was not stored and nothing "
                    "was lost. Free some space; the next sync carries on from here.", disk_full=True
                ) from None
            raise ContentStoreError(
                f"An attachment file could not be written ({exc.strerror or exc.__class__.__name__}). "
                "Nothing was lost; the next sync tries again."
            ) from None

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


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
