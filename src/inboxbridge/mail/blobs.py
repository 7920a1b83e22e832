"""Where attachment contents live: a row's `data` in the database, or a file in the content store
(`INBOXBRIDGE_ATTACHMENT_STORE`). Both kinds can be present at once: switching the setting only
changes where new contents go, and every reader goes through here."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings

from inboxbridge.lib.content_store import ContentStore
from inboxbridge.mail.models import Blob

# Files no Blob row names are deleted once unused this long: a sync commits its rows seconds after
# writing (or reusing) the files, and a backup copies the database and then the files.
SWEEP_GRACE_SECONDS = 24 * 3600


class ContentMissing(Exception):
    """A Blob row names a file the content store does not have (restored without its files?)."""


def attachment_files() -> ContentStore:
    """The attachment files directory, whatever the store for new contents is now."""
    return ContentStore(settings.ATTACHMENTS_DIR)


def attachment_store() -> ContentStore | None:
    """The file store new attachment contents go to, or None when they go into the database."""
    return attachment_files() if settings.ATTACHMENT_STORE == "files" else None


def open_blob(blob: Blob) -> BinaryIO:
    """The content for reading, from wherever it was stored."""
    if blob.data is not None:
        return io.BytesIO(bytes(blob.data))
    try:
        return attachment_files().open(blob.sha256)
    except (FileNotFoundError, ValueError):
        raise ContentMissing(
            "The content of this attachment is missing from the attachment files "
            "(INBOXBRIDGE_ATTACHMENTS_DIR). Restore that directory from the backup taken with the database."
        ) from None


def blob_bytes(blob: Blob) -> bytes:
    with open_blob(blob) as handle:
        return handle.read()


def blobs_in_files(digests: list[str]) -> set[str]:
    """Which of these digests a Blob row keeps as a file (the sweep's test of 'in use')."""
    return set(Blob.objects.filter(sha256__in=digests, data__isnull=True).values_list("sha256", flat=True))


def sweep_attachment_files() -> int:
    """Delete attachment files no Blob row names any more (orphan rows are deleted first)."""
    return attachment_files().sweep(blobs_in_files, grace=SWEEP_GRACE_SECONDS)



@dataclass
class MoveReport:
    moved: int = 0
    moved_bytes: int = 0
    missing: list[str] = field(default_factory=list)  # in neither place, or damaged


def move_contents(to: str, *, progress: Callable[[int, int], None] | None = None) -> MoveReport:
    """Move every attachment content into the attachment files (`to="files"`) or into the database
    (`"database"`), after a change of INBOXBRIDGE_ATTACHMENT_STORE. One content at a time, so
    memory holds one; each is in its new place, durably, before its old place is given up, so a
    crash loses nothing and a second run carries on. Safe while the service runs. Files left
    behind by a move into the database are deleted by housekeeping a day later."""
    if to not in ("files", "database"):
        raise ValueError(f"move contents to 'files' or 'database', not {to!r}")
    to_files = to == "files"
    digests = list(Blob.objects.filter(data__isnull=not to_files).order_by("sha256").values_list("sha256", flat=True))
    report = MoveReport()
    files = attachment_files()
    for done, digest in enumerate(digests, start=1):
        data = _content_to_move(digest, to_files, files)
        if data is None:
            if not Blob.objects.filter(sha256=digest, data__isnull=not to_files).exists():
                continue  # moved or deleted meanwhile
            report.missing.append(digest)
        else:
            if to_files:
                files.put(digest, data)
                moved = Blob.objects.filter(sha256=digest, data__isnull=False).update(data=None)
            else:
                moved = Blob.objects.filter(sha256=digest, data__isnull=True).update(data=data)
            report.moved += moved
            report.moved_bytes += len(data) if moved else 0
        if progress is not None:
            progress(done, len(digests))
    return report


def _content_to_move(digest: str, to_files: bool, files: ContentStore) -> bytes | None:
    """The content from its present place, checked against its digest; None if it is not there."""
    if to_files:
        stored = Blob.objects.filter(sha256=digest, data__isnull=False).values_list("data", flat=True).first()
        data = bytes(stored) if stored is not None else None
    else:
        try:
            with files.open(digest) as handle:
                data = handle.read()
        except (FileNotFoundError, ValueError):
            data = None
    return data if data is not None and hashlib.sha256(data).hexdigest() == digest else None
