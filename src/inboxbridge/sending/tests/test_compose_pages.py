"""Drafts, attachments, signatures, address suggestions and the header checks of Compose, with the
outbox's stand-in servers: a draft is its author's alone and outlives the page, files live in the
attachment store while they are a draft's and only in the sent message afterwards, the size limit
is said before anything is queued, and no field can write a header."""

from __future__ import annotations

import email
import email.policy
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.jobs.housekeeping import delete_orphan_blobs
from inboxbridge.mail.models import Blob
from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.sending.forms import ADDRESS_LIST_MAX_CHARS, SUBJECT_MAX_CHARS
from inboxbridge.sending.models import OutgoingMessage, SavedDraft
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import FakeServers, fields

pytestmark = pytest.mark.django_db

REPORT = b"%PDF-1.4 quarterly report\n" * 500
PHOTO = b"\xff\xd8\xff\xe0 team photo" * 400


def test_a_draft_is_saved_while_writing_resumed_and_only_its_author_sees_it(writer, other_mailbox, client,
                                                                            django_user_model):
    answer = writer.post(reverse("sending:compose"), fields(other_mailbox, to="not yet an address",
                                                            subject="Plans", action="autosave"))
    assert answer.status_code == 200
    saved = SavedDraft.objects.get()
    url = reverse("sending:draft", args=[saved.pk])
    assert answer.json() == {"draft": saved.pk, "url": url, "saved": "Draft saved."}
    assert (saved.to, saved.subject, saved.author) == ("not yet an address", "Plans", other_mailbox.owner)
    # The next save updates the same row (the page sends its id until its address is the draft's).
    writer.post(reverse("sending:compose"), fields(other_mailbox, to="ann@example.test", subject="Plans 2",
                                                   draft=saved.pk, action="autosave"))
    assert SavedDraft.objects.get().subject == "Plans 2"

    listing = writer.get(reverse("sending:drafts")).content.decode()
    assert "Plans 2" in listing and reverse("sending:draft", args=[saved.pk]) in listing
    resumed = writer.get(reverse("sending:draft", args=[saved.pk]))
    assert resumed.context["form"].initial["to"] == "ann@example.test"

    stranger = django_user_model.objects.create_user("stranger", "s@example.test", "stranger-password-1")
    make_mailbox(stranger)
    client.force_login(stranger)
    assert client.get(reverse("sending:draft", args=[saved.pk])).status_code == 404
    assert client.post(reverse("sending:discard-draft", args=[saved.pk])).status_code == 404
    assert client.post(reverse("sending:compose"), fields(other_mailbox, draft=saved.pk,
                                                          action="autosave")).status_code == 404
    assert "Plans 2" not in client.get(reverse("sending:drafts")).content.decode()

    client.force_login(other_mailbox.owner)
    assert client.post(reverse("sending:discard-draft", args=[saved.pk])).status_code == 302
    assert not SavedDraft.objects.exists()


def test_files_live_in_the_attachment_store_as_a_draft_and_only_in_the_message_once_sent(
        writer, other_mailbox, servers: FakeServers):
    saved_page = writer.post(reverse("sending:compose"), fields(other_mailbox, action="save", attach=[
        SimpleUploadedFile("report.pdf", REPORT, "application/pdf"),
        SimpleUploadedFile("photo.jpg", PHOTO, "image/jpeg")]))
    saved = SavedDraft.objects.get()
    assert saved_page.url == reverse("sending:draft", args=[saved.pk])
    uploads = {upload.filename: upload for upload in saved.uploads.all()}
    assert {name: upload.blob_id for name, upload in uploads.items()} == {
        "report.pdf": hashlib.sha256(REPORT).hexdigest(), "photo.jpg": hashlib.sha256(PHOTO).hexdigest()}
    assert delete_orphan_blobs() == 0  # housekeeping keeps a draft's files
    page = writer.get(saved_page.url).content.decode()
    assert "report.pdf" in page and "photo.jpg" in page

    # Sent with the photo unticked: the message carries the report only.
    sent = writer.post(saved_page.url, fields(other_mailbox, keep_upload=[uploads["report.pdf"].pk]))
    assert sent.status_code == 302 and not SavedDraft.objects.exists()
    outgoing = OutgoingMessage.objects.get()
    assert send_outgoing_message.call(outgoing.pk) == "sent"
    assert outgoing.attachments == [{"filename": "report.pdf", "content_type": "application/pdf",
                                     "size": len(REPORT), "sha256": hashlib.sha256(REPORT).hexdigest()}]
    [(_sender, _recipients, data)] = servers.sent
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    [part] = parsed.iter_attachments()
    assert part.get_filename() == "report.pdf" and part.get_content() == REPORT
    # No second copy: once the draft is gone, housekeeping deletes its contents.
    assert delete_orphan_blobs() == 2 and not Blob.objects.exists()
    detail = writer.get(reverse("sending:detail", args=[outgoing.pk])).content.decode()
    assert "report.pdf" in detail


def test_files_over_the_limit_are_refused_before_queuing_and_the_limit_is_shown(writer, other_mailbox, settings):
    settings.SEND_MAX_BYTES = 1024 * 1024
    assert "At most 1.0\xa0MB of files per message." in writer.get(reverse("sending:compose")).content.decode()
    answer = writer.post(reverse("sending:compose"), fields(other_mailbox, attach=[
        SimpleUploadedFile("a.bin", b"a" * 700_000), SimpleUploadedFile("b.bin", b"b" * 700_000)]))
    assert answer.status_code == 400
    assert "a message may carry at most 1.0\xa0MB of files" in answer.content.decode()
    assert not OutgoingMessage.objects.exists() and not Blob.objects.exists()


@pytest.mark.parametrize("field", ["to", "cc", "bcc", "subject"])
@pytest.mark.parametrize("value", ["ann@example.test\r\nBcc: victim@example.test", "ann@example.test\nX-Injected: yes",
                                   "ann@example.test\0"])
def test_line_breaks_and_nul_are_refused_in_every_header_field(writer, other_mailbox, field, value):
    answer = writer.post(reverse("sending:compose"), fields(other_mailbox, **{field: value}))
    expected = ("Null characters are not allowed." if "\0" in value
                else "The subject must be a single line." if field == "subject" else "Not an email address")
    assert answer.status_code == 400 and expected in answer.content.decode()
    assert not OutgoingMessage.objects.exists()


@pytest.mark.parametrize(("field", "limit"), [("to", ADDRESS_LIST_MAX_CHARS), ("cc", ADDRESS_LIST_MAX_CHARS),
                                              ("bcc", ADDRESS_LIST_MAX_CHARS), ("subject", SUBJECT_MAX_CHARS)])
def test_over_long_values_are_refused_in_every_header_field(writer, other_mailbox, field, limit):
    answer = writer.post(reverse("sending:compose"), fields(other_mailbox, **{field: "a" * (limit + 1)}))
    assert answer.status_code == 400 and f"at most {limit} characters" in answer.content.decode()
    assert not OutgoingMessage.objects.exists()


def test_an_attachments_file_name_cannot_write_a_header(writer, other_mailbox, servers: FakeServers):
    writer.post(reverse("sending:compose"), fields(other_mailbox, attach=[
        SimpleUploadedFile("evil.txt\r\nBcc: victim@example.test", b"x")]))
    assert send_outgoing_message.call(OutgoingMessage.objects.get().pk) == "sent"
    [(_sender, recipients, data)] = servers.sent
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    [part] = parsed.iter_attachments()
    assert "\n" not in part.get_filename() and "\r" not in part.get_filename()
    assert parsed["Bcc"] is None and part["Bcc"] is None and recipients == ["ann@example.test"]


def test_signatures_are_inserted_above_the_quote_and_a_system_mailbox_has_its_own(
        writer, other_mailbox, admin_client, client):
    assert writer.post(reverse("sending:signature"), {"signature": "Ann Writer\nSales"}).status_code == 302
    system = make_mailbox(None, label="Help Desk")
    system.authorized_users.add(other_mailbox.owner)
    assert writer.post(reverse("sending:mailbox-signature", args=[system.pk]),
                       {"signature": "x"}).status_code == 403  # administrators only
    assert admin_client.post(reverse("sending:mailbox-signature", args=[system.pk]),
                             {"signature": "The Help Desk team"}).status_code == 302

    original = store(other_mailbox, message("Question", text="Is it ready?"))
    page = writer.get(reverse("sending:reply", args=[original.pk]))
    body = page.context["form"].initial["body"]
    assert body.index("-- \nAnn Writer\nSales") < body.index("> Is it ready?")
    html = page.context["html_initial"]
    assert html.index("Ann Writer<br>Sales") < html.index("<blockquote")
    # Choosing the system mailbox as From puts its signature in place of the writer's.
    signatures = page.context["signatures"]
    assert "Ann Writer<br>Sales" in signatures[str(other_mailbox.pk)]
    assert "The Help Desk team" in signatures[str(system.pk)] and "Ann" not in signatures[str(system.pk)]


def test_address_suggestions_come_from_the_users_own_visible_mail(writer, other_mailbox, client, django_user_model):
    store(other_mailbox, message("Hi", sender="Zoe Quinn <zoe.quinn@fabrikam.test>"))
    answer = writer.get(reverse("sending:address-suggestions"), {"q": "zo"})
    assert answer.json() == {"addresses": ["Zoe Quinn <zoe.quinn@fabrikam.test>"]}
    assert writer.get(reverse("sending:address-suggestions"), {"q": "Quinn"}).json() == {"addresses": []}

    stranger = django_user_model.objects.create_user("stranger", "s@example.test", "stranger-password-1")
    make_mailbox(stranger)
    client.force_login(stranger)
    assert client.get(reverse("sending:address-suggestions"), {"q": "zo"}).json() == {"addresses": []}


def test_a_message_refused_for_its_address_keeps_its_new_files(writer, other_mailbox):
    answer = writer.post(reverse("sending:compose"), fields(other_mailbox, to="ann@", attach=[
        SimpleUploadedFile("report.pdf", REPORT, "application/pdf")]))
    assert answer.status_code == 400 and "Not an email address" in answer.content.decode()
    assert "Your files are kept in this message&#x27;s draft." in answer.content.decode()
    [upload] = SavedDraft.objects.get().uploads.all()
    assert upload.filename == "report.pdf" and upload.size == len(REPORT)
    assert answer.context["form"]["keep_upload"].value() == [str(upload.pk)]
    assert not OutgoingMessage.objects.exists()


def test_a_reply_resumed_from_its_draft_still_answers_its_original(writer, other_mailbox):
    original = store(other_mailbox, message("Question", message_id="q-1@fabrikam.test",
                                            references="<root@fabrikam.test>"))
    writer.post(reverse("sending:reply", args=[original.pk]), fields(
        other_mailbox, subject="Re: Question", body_html='<p>Soon.</p><img src="x" onerror="alert(1)">',
        action="autosave"))
    saved = SavedDraft.objects.get()
    assert saved.reply_to_email == original and "onerror" not in saved.body_html  # kept sanitised
    resumed = writer.get(reverse("sending:draft", args=[saved.pk]))
    assert "Soon." in resumed.context["html_initial"] and 'id="replying-to"' in resumed.content.decode()

    writer.post(reverse("sending:draft", args=[saved.pk]), fields(other_mailbox, subject="Re: Question",
                                                                  body_html="<p>Soon.</p>"))
    sent = OutgoingMessage.objects.get()
    parsed = email.message_from_bytes(bytes(sent.mime), policy=email.policy.default)
    assert sent.reply_to_email == original and parsed["In-Reply-To"] == "<q-1@fabrikam.test>"
    assert parsed["References"] == "<root@fabrikam.test> <q-1@fabrikam.test>"


def test_a_rich_text_answer_counts_the_inline_images_it_takes_along(writer, other_mailbox, settings):
    settings.SEND_MAX_BYTES = 1024 * 1024
    original = store(other_mailbox, message("Chart", html='<img src="cid:big@x">',
                                            inline=[("big@x", "image/png", b"\x89PNG" + b"0" * 700_000)]))
    attach = [SimpleUploadedFile("notes.bin", b"n" * 400_000)]
    answer = writer.post(reverse("sending:reply", args=[original.pk]), fields(
        other_mailbox, body_html='<p>ok</p><img src="cid:big@x">', attach=attach))
    assert answer.status_code == 400 and "a message may carry at most 1.0\xa0MB of files" in answer.content.decode()
    # As plain text the image stays behind, and the file alone fits.
    attach = [SimpleUploadedFile("notes.bin", b"n" * 400_000)]
    answer = writer.post(reverse("sending:reply", args=[original.pk]), fields(other_mailbox, attach=attach))
    assert answer.status_code == 302 and OutgoingMessage.objects.count() == 1
