"""`inboxbridge manage move_attachments`: contents from the database into the attachment files and
back, every attachment still downloadable, a second run changing nothing, damage reported."""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.lib.content_store import ContentStore
from inboxbridge.mail.blobs import blob_bytes
from inboxbridge.mail.models import Attachment, Blob
from inboxbridge.mail.tests.helpers import message, store

pytestmark = pytest.mark.django_db

CONTENTS = {"report.pdf": b"%PDF-1.4 " + os.urandom(70_000), "notes.txt": b"plain notes\n" * 50}


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("mover", "mover@example.test", "mover-password-1")


@pytest.fixture
def stored_in_database(settings, tmp_path, owner):
    settings.ATTACHMENT_STORE, settings.ATTACHMENTS_DIR = "database", tmp_path / "attachments"
    mailbox = make_mailbox(owner)
    for n in range(3):  # the same two contents in three emails: stored once each
        store(mailbox, message(f"With files {n}", attachments=[
            (name, "application/octet-stream", data) for name, data in CONTENTS.items()]))
    assert Blob.objects.filter(data__isnull=False).count() == 2
    return settings


def run(**options) -> str:
    out = io.StringIO()
    call_command("move_attachments", stdout=out, **options)
    return out.getvalue()


def downloads(client, owner) -> dict[str, bytes]:
    client.force_login(owner)
    got = {}
    for part in Attachment.objects.all():
        response = client.get(reverse("mail:attachment", args=[part.pk]))
        got[part.filename] = b"".join(response.streaming_content) if response.streaming else response.content
    return got


def test_contents_move_into_files_and_back_and_stay_downloadable(stored_in_database, client, owner):
    settings = stored_in_database
    settings.ATTACHMENT_STORE = "files"  # the operator switched the setting, then runs the command
    output = run()
    assert "Moved 2 attachment content(s)" in output and "into the attachment files" in output
    assert not Blob.objects.filter(data__isnull=False).exists()
    files = ContentStore(settings.ATTACHMENTS_DIR)
    for blob in Blob.objects.all():
        assert files.path(blob.sha256).is_file()
    assert downloads(client, owner) == CONTENTS
    assert "Moved 0 attachment content(s)" in run()  # a second run finds nothing left to move

    output = run(to="database")
    assert "Moved 2 attachment content(s)" in output and "deleted by housekeeping" in output
    assert Blob.objects.filter(data__isnull=True).count() == 0
    assert {bytes(b.data) for b in Blob.objects.all()} == set(CONTENTS.values())
    assert downloads(client, owner) == CONTENTS


def test_a_damaged_file_is_reported_and_stays_where_it_was(stored_in_database):
    settings = stored_in_database
    run(to="files")
    files = ContentStore(settings.ATTACHMENTS_DIR)
    damaged, intact = sorted(Blob.objects.all(), key=lambda b: b.size)
    files.path(damaged.sha256).write_bytes(b"truncated")
    with pytest.raises(CommandError, match=r"1 content\(s\) were missing or damaged in the attachment files"):
        run(to="database")
    assert Blob.objects.get(pk=damaged.pk).data is None  # still (meant to be) a file: nothing was lost
    assert blob_bytes(Blob.objects.get(pk=intact.pk)) in CONTENTS.values()
    assert Blob.objects.get(pk=intact.pk).data is not None
