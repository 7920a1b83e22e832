"""Real-world messy mail through the whole path (APPEND into Dovecot, sync, database): CPython's
email test corpus, malformed MIME, broken charsets, 8-bit headers, oversized attachments and
Message-ID collisions. Whatever the parser makes of a message must be exactly what is stored."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import DataError
from tests.samples import require_sample_messages

from inboxbridge.lib.mime import parse_message, synthetic_message_id
from inboxbridge.mail.blobs import blob_bytes
from inboxbridge.mail.models import Attachment, Blob, Email, Placement
from inboxbridge.mailboxes.models import Folder
from inboxbridge.sync import engine, store
from inboxbridge.sync.pipeline import content_hash
from inboxbridge.sync.tests.helpers import (
    SyncCase,
    append,
    assert_in_step,
    create_folder,
    make_message,
    select_folders,
)

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


def crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def server_messages(client: Any, folder: str) -> dict[int, bytes]:
    client.select(f'"{folder}"', readonly=True)
    _typ, data = client.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
    client.close()
    found = {}
    for item in data:
        if isinstance(item, tuple):
            found[int(re.search(rb"UID (\d+)", item[0]).group(1))] = item[1]  # type: ignore[union-attr]
    return found


def assert_stored_as_parsed(email: Email, raw: bytes, max_size: int) -> None:
    """The Email holds what the parser makes of `raw`. When several copies (same Message-ID, same
    content) share the Email, only the content is compared: their header blocks may differ."""
    parsed = parse_message(raw, max_attachment_size=max_size)
    assert email.message_id == (parsed.message_id or "")
    assert email.message_key.split("#")[0] == store.base_key(parsed.message_id or synthetic_message_id(raw))
    assert email.content_hash == content_hash(parsed)
    assert email.subject == parsed.subject
    assert email.body_text == parsed.text
    assert email.body_html == parsed.html
    stored = [(a.filename, a.content_type, a.size, a.content_id, a.inline, a.omitted, a.blob_id)
              for a in email.attachments.all()]
    expected = [(a.filename, a.content_type, a.size, a.content_id, a.inline, a.omitted,
                 None if a.omitted or a.data is None else a.sha256) for a in parsed.attachments]
    assert stored == expected
    for attachment in parsed.attachments:
        if attachment.data is not None and not attachment.omitted:
            assert blob_bytes(Blob.objects.get(sha256=attachment.sha256)) == attachment.data
    if email.placements.count() > 1:
        return
    assert email.headers == [[n, v] for n, v in parsed.headers]
    assert (email.from_name, email.from_address) == ((parsed.sender.name, parsed.sender.address)
                                                      if parsed.sender else ("", ""))
    assert email.to == [[a.name, a.address] for a in parsed.to]
    assert email.cc == [[a.name, a.address] for a in parsed.cc]
    assert email.sent_at == parsed.date
    assert email.in_reply_to == parsed.in_reply_to and email.references == " ".join(parsed.references)
    assert email.defects == parsed.defects
    assert email.truncated == (parsed.truncated or any(a.omitted for a in parsed.attachments))


def test_cpython_email_corpus_is_stored_as_parsed(sync_case: SyncCase, settings: Any) -> None:
    files = require_sample_messages()
    assert len(files) > 30
    create_folder(sync_case.client, "Corpus")
    for path in files:
        append(sync_case.client, "Corpus", crlf(path.read_bytes()))
    select_folders(sync_case.mailbox, "Corpus")

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.complete
    on_server = server_messages(sync_case.client, "Corpus")
    assert len(on_server) == len(files)
    folder = Folder.objects.get(mailbox=sync_case.mailbox, name="Corpus")
    placements = {p.uid: p.email for p in Placement.objects.filter(folder=folder).select_related("email")}
    assert set(placements) == set(on_server)
    for uid, raw in on_server.items():
        assert_stored_as_parsed(placements[uid], raw, settings.ATTACHMENT_MAX_BYTES)
    assert Email.objects.filter(mailbox=sync_case.mailbox).count() == len(
        {(parse_message(raw).message_id or synthetic_message_id(raw), content_hash(parse_message(raw)))
         for raw in on_server.values()}
    )
    assert_in_step(sync_case.mailbox, sync_case.client, ["Corpus"])


MALFORMED = {
    "unclosed multipart": (
        b"From: a@x.test\r\nSubject: unclosed\r\nMessage-ID: <unclosed@x.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="BOUND"\r\n\r\n--BOUND\r\nContent-Type: text/plain\r\n\r\n'
        b"first part\r\n--BOUND\r\nContent-Type: application/pdf; name=x.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    ),
    "unknown charset": (
        b"From: b@x.test\r\nSubject: charset\r\nMessage-ID: <charset@x.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="x-no-such-charset"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
        b"caf\xe9 cr\xe8me \xff\xfe\r\n"
    ),
    "8-bit headers": (
        "From: Jürgen Weiß <juergen@x.test>\r\nSubject: Grüße, ça va ?\r\nMessage-ID: <eightbit@x.test>\r\n"
        "To: Zoë <zoe@x.test>\r\n\r\nBody\r\n"
    ).encode(),
    "latin-1 headers": b"From: Andr\xe9 <andre@x.test>\r\nSubject: Caf\xe9\r\nMessage-ID: <latin@x.test>\r\n\r\nx\r\n",
    "bad base64 and bad date": (
        b"From: c@x.test\r\nSubject: broken b64\r\nMessage-ID: <b64@x.test>\r\nDate: not a date\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"SGVsbG8gd29ybGQ!!!=\r\n"
    ),
    "no headers at all": b"\r\njust a body, no header block\r\n",
    "no message-id": b"From: d@x.test\r\nSubject: anonymous\r\n\r\nno id here\r\n",
}


def test_malformed_mail_is_stored_as_parsed(sync_case: SyncCase, settings: Any) -> None:
    for raw in MALFORMED.values():
        append(sync_case.client, "INBOX", raw)
    result = engine.sync_mailbox(sync_case.mailbox.pk)
    assert result.error == "" and result.fetched == len(MALFORMED)
    folder = Folder.objects.get(mailbox=sync_case.mailbox, name="INBOX")
    for uid, raw in server_messages(sync_case.client, "INBOX").items():
        email = Placement.objects.select_related("email").get(folder=folder, uid=uid).email
        assert_stored_as_parsed(email, raw, settings.ATTACHMENT_MAX_BYTES)
    assert Email.objects.get(message_id="eightbit@x.test").subject == "Grüße, ça va ?"
    assert Email.objects.get(message_id="eightbit@x.test").from_name == "Jürgen Weiß"
    assert "caf" in Email.objects.get(message_id="charset@x.test").body_text
    assert Email.objects.get(subject="anonymous").message_key.endswith("@synthetic.inboxbridge")
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_oversized_attachment_is_listed_not_stored(sync_case: SyncCase, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10_000
    raw = make_message("Big one", message_id="big@x.test", attachment=("huge.bin", b"\x01" * 50_000))
    append(sync_case.client, "INBOX", raw)
    append(sync_case.client, "INBOX", make_message("Small one", attachment=("small.bin", b"\x02" * 500)))

    assert engine.sync_mailbox(sync_case.mailbox.pk).error == ""

    big = Email.objects.get(message_id="big@x.test")
    assert big.truncated and big.has_attachments
    huge = big.attachments.get()
    assert (huge.filename, huge.size, huge.omitted, huge.blob_id) == ("huge.bin", 50_000, True, None)
    small = Attachment.objects.get(filename="small.bin")
    assert small.blob is not None and not small.omitted and blob_bytes(small.blob) == b"\x02" * 500
    assert not Email.objects.get(subject="Small one").truncated


def test_message_id_collisions(sync_case: SyncCase) -> None:
    client = sync_case.client
    create_folder(client, "Other")
    same = make_message("Same message", message_id="shared@x.test", body="identical\n")
    append(client, "INBOX", same)
    append(client, "Other", same)  # one message in two folders: one Email, two placements
    append(client, "INBOX", make_message("Different content", message_id="shared@x.test", body="not the same\n"))
    attached = ("same.bin", b"\x09" * 3000)
    append(client, "INBOX", make_message("Twin A", attachment=attached))
    append(client, "Other", make_message("Twin B", attachment=attached))  # one blob for both
    select_folders(sync_case.mailbox, "INBOX", "Other")

    assert engine.sync_mailbox(sync_case.mailbox.pk).error == ""

    shared = Email.objects.filter(message_id="shared@x.test").order_by("message_key")
    assert [e.subject for e in shared] == ["Same message", "Different content"]
    assert shared[0].message_key == "shared@x.test" and shared[1].message_key.startswith("shared@x.test#")
    assert shared[0].placements.count() == 2 and shared[1].placements.count() == 1
    assert Blob.objects.filter(size=3000).count() == 1
    assert_in_step(sync_case.mailbox, client, ["INBOX", "Other"])
    # A second sync changes nothing.
    again = engine.sync_mailbox(sync_case.mailbox.pk)
    assert (again.fetched, again.deleted, again.updated) == (0, 0, 0)


def test_a_message_the_database_refuses_is_kept_as_a_stub(sync_case: SyncCase,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for subject in ("Fine before", "Poison", "Fine after"):
        append(sync_case.client, "INBOX", make_message(subject))
    real = store._create_emails

    def refuse_poison(mailbox_id: int, new_by_key: Any) -> Any:
        if any(item.parsed.subject == "Poison" for item in new_by_key.values()):
            raise DataError("value too long for type character varying(320)")
        return real(mailbox_id, new_by_key)

    monkeypatch.setattr(store, "_create_emails", refuse_poison)
    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.complete
    stub = Email.objects.get(subject="Poison")
    assert stub.message_key.startswith("unstorable.") and "could not be stored" in stub.defects[-1]
    assert Email.objects.filter(subject__startswith="Fine").count() == 2
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])
