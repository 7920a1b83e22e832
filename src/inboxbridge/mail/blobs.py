"""Where attachment contents live: a row's `data` in the database, or a file in the content store
(`INBOXBRIDGE_ATTACHMENT_STORE`). Both kinds can be present at once: switching the setting only
changes where new contents go, and every reader goes through here."""

from __future__ import annotations

import io
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

