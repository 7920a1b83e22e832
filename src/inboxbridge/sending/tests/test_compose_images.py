"""Images a writer inserts into the text of a message, with the outbox's stand-in servers: uploaded
into the draft and shown from this site at once, sent inline under the Content-ID the HTML names
(only while the HTML still shows them), never listed as files, counted in the size limit, refused
with a reason when they are not an image or too big, shown again in a resumed draft, and seen by
the draft's author alone."""

from __future__ import annotations

import email
import email.policy
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.jobs.housekeeping import delete_orphan_blobs
from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.sending.models import DraftAttachment, OutgoingMessage, SavedDraft
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import FakeServers, fields, png

pytestmark = pytest.mark.django_db

PICTURE = png(32, 20, (10, 120, 200))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 30
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40


def insert(client, mailbox, data=PICTURE, name="chart.png", content_type="image/png", url=None, **values):
    """What compose.js posts for an inserted image: the typed fields, the file, action "image"."""
    return client.post(url or reverse("sending:compose"), fields(
        mailbox, action="image", image=SimpleUploadedFile(name, data, content_type), **values))


def sent_message(servers: FakeServers) -> email.message.EmailMessage:
    assert send_outgoing_message.call(OutgoingMessage.objects.get().pk) == "sent"
    [(_sender, _recipients, data)] = servers.sent
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def test_an_inserted_image_is_kept_in_the_draft_shown_from_this_site_and_resumed(writer, other_mailbox):
    answer = insert(writer, other_mailbox, subject="Chart")
    assert answer.status_code == 200, answer.content
    saved = SavedDraft.objects.get()
    [upload] = saved.uploads.all()
    src = reverse("sending:draft-image", args=[saved.pk, upload.pk])
    assert answer.json() == {"draft": saved.pk, "url": reverse("sending:draft", args=[saved.pk]),
                             "saved": "Draft saved.", "image": {"src": src, "alt": "chart.png"}}
    assert saved.subject == "Chart"  # what was typed is saved with it, as an autosave does
    assert upload.inline and upload.content_type == "image/png"
    assert upload.blob_id == hashlib.sha256(PICTURE).hexdigest()
    assert delete_orphan_blobs() == 0  # housekeeping keeps it while the draft names it

    shown = writer.get(src)
    assert shown.status_code == 200 and b"".join(shown.streaming_content) == PICTURE
    assert shown["Content-Type"] == "image/png" and shown["X-Content-Type-Options"] == "nosniff"
    assert shown["Content-Disposition"].startswith("inline") and "no-store" in shown["Cache-Control"]

    # The editor's HTML (with the address the editor shows) is kept naming the image by Content-ID...
    writer.post(reverse("sending:draft", args=[saved.pk]), fields(
        other_mailbox, subject="Chart", action="autosave", body_html=f'<p>Look:</p><p><img src="{src}" alt="x"></p>'))
    saved.refresh_from_db()
    assert f'src="cid:{upload.content_id}"' in saved.body_html and src not in saved.body_html
    # ...and shows it again when the draft is resumed; the image is not among the attached files.
    page = writer.get(reverse("sending:draft", args=[saved.pk]))
    assert f'src="{src}"' in page.context["html_initial"]
    assert "keep_upload" not in page.context["form"].fields
    assert "chart.png" not in page.content.decode()


def test_the_image_goes_inline_under_the_cid_its_html_names_and_is_not_listed_as_a_file(
        writer, other_mailbox, servers: FakeServers):
    insert(writer, other_mailbox)
    saved = SavedDraft.objects.get()
    writer.post(reverse("sending:compose"), fields(other_mailbox, action="save", draft=saved.pk, attach=[
        SimpleUploadedFile("notes.txt", b"the notes\n", "text/plain")]))
    image, notes = saved.uploads.order_by("id")
    src = reverse("sending:draft-image", args=[saved.pk, image.pk])
    # A cut and paste in the editor brings the image back with this site's address in front.
    answer = writer.post(reverse("sending:draft", args=[saved.pk]), fields(
        other_mailbox, keep_upload=[notes.pk],
        body_html=f'<p>The <b>chart</b>:</p><img src="http://testserver{src}" alt="chart.png">'))
    assert answer.status_code == 302, answer.content.decode()[:2000]

    outgoing = OutgoingMessage.objects.get()
    assert outgoing.attachments == [{"filename": "notes.txt", "content_type": "text/plain", "size": 10,
                                     "sha256": hashlib.sha256(b"the notes\n").hexdigest()}]
    parsed = sent_message(servers)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative = next(part for part in parsed.walk() if part.get_content_type() == "multipart/alternative")
    related = alternative.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html = related.get_body(("html",)).get_content()
    cids = re.findall(r'src="cid:([^"]+)"', html)
    assert cids == [image.content_id] and "testserver" not in html
    [inline] = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    assert inline["Content-ID"] == f"<{image.content_id}>" and inline.get_content() == PICTURE
    assert inline.get_content_disposition() == "inline"
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["notes.txt"]


def test_an_image_deleted_in_the_editor_is_not_sent_at_all(writer, other_mailbox, servers: FakeServers):
    insert(writer, other_mailbox)
    insert(writer, other_mailbox, data=JPEG, name="photo.jpg", content_type="image/jpeg",
           draft=SavedDraft.objects.get().pk)
    saved = SavedDraft.objects.get()
    chart, photo = saved.uploads.order_by("id")
    kept = reverse("sending:draft-image", args=[saved.pk, photo.pk])
    writer.post(reverse("sending:draft", args=[saved.pk]), fields(other_mailbox, body_html=f'<img src="{kept}">'))

    parsed = sent_message(servers)
    images = [part for part in parsed.walk() if part.get_content_maintype() == "image"]
    assert [(part["Content-ID"], part.get_content()) for part in images] == [(f"<{photo.content_id}>", JPEG)]
    assert chart.content_id not in parsed.as_string() and OutgoingMessage.objects.get().attachments == []


@pytest.mark.parametrize(("name", "data", "content_type", "said"), [
    ("report.pdf", b"%PDF-1.4 a report\n" * 20, "application/pdf",
     "“report.pdf” is not an image. Insert a PNG, JPEG, GIF or WebP image, or attach the file with Attach files."),
    ("fake.png", b"<html><script>alert(1)</script></html>", "image/png",
     "“fake.png” is not a PNG, JPEG, GIF or WebP image: its content is something else (or it is damaged)."),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml",
     "“logo.svg” is an SVG image, which cannot be inserted: it can carry scripts."),
    ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png",
     "“logo.png” is not a PNG, JPEG, GIF or WebP image"),
    ("empty.png", b"", "image/png", "The submitted file is empty."),
])
def test_what_is_not_an_image_is_refused_with_the_reason(writer, other_mailbox, name, data, content_type, said):
    answer = insert(writer, other_mailbox, data=data, name=name, content_type=content_type)
    assert answer.status_code == 400 and said in answer.json()["error"]
    assert not DraftAttachment.objects.exists()


@pytest.mark.parametrize(("data", "declared", "stored"), [
    (PICTURE, "application/octet-stream", "image/png"),  # a browser that did not know: the content tells
    (PICTURE, "image/jpeg", "image/png"),  # misnamed: sent as what it is
    (JPEG, "image/jpeg", "image/jpeg"), (GIF, "image/gif", "image/gif"), (WEBP, "image/webp", "image/webp"),
])
def test_an_image_is_sent_as_the_type_its_content_is(writer, other_mailbox, data, declared, stored):
    assert insert(writer, other_mailbox, data=data, content_type=declared).status_code == 200
    assert DraftAttachment.objects.get().content_type == stored


def test_an_image_over_the_limit_is_refused_and_inline_images_count_toward_it(writer, other_mailbox, settings,
                                                                                 servers: FakeServers):
    settings.SEND_MAX_BYTES = 1024 * 1024
    answer = insert(writer, other_mailbox, data=png(noise=1_100_000), name="huge.png")
    assert answer.status_code == 400
    assert answer.json()["error"] == ("“huge.png” is 1.0\xa0MB; a message may carry at most 1.0\xa0MB of files. "
                                      "Make it smaller, or send it in a message of its own.")
    assert not SavedDraft.objects.exists()

    assert insert(writer, other_mailbox, data=png(noise=600_000), name="big.png").status_code == 200
    saved = SavedDraft.objects.get()
    [big] = saved.uploads.all()
    shown = f'<img src="{reverse("sending:draft-image", args=[saved.pk, big.pk])}">'
    # A second one would take the message over the limit while the first is shown...
    answer = insert(writer, other_mailbox, data=png(noise=600_000), name="second.png", draft=saved.pk, body_html=shown)
    assert answer.status_code == 413 and "With “second.png” the message's files would come to 1.1\xa0MB" in (
        answer.json()["error"])
    # ...and a file attached beside it takes the message over at Send.
    answer = writer.post(reverse("sending:draft", args=[saved.pk]), fields(
        other_mailbox, body_html=shown, attach=[SimpleUploadedFile("notes.bin", b"n" * 500_000)]))
    assert answer.status_code == 400 and "a message may carry at most 1.0\xa0MB of files" in answer.content.decode()
    assert not OutgoingMessage.objects.exists()
    # Once deleted from the text it no longer counts (nor goes), and the file fits.
    answer = writer.post(reverse("sending:draft", args=[saved.pk]), fields(
        other_mailbox, body_html="<p>No image after all.</p>",
        attach=[SimpleUploadedFile("notes.bin", b"n" * 500_000)]))
    assert answer.status_code == 302 and [p.get_filename() for p in sent_message(servers).iter_attachments()] == [
        "notes.bin"]


def test_a_reply_carries_both_the_originals_image_and_the_inserted_one(writer, other_mailbox, servers: FakeServers):
    original = store(other_mailbox, message("Chart", html='<p>Ours:</p><img src="cid:ours@x">',
                                            inline=[("ours@x", "image/gif", GIF)]))
    url = reverse("sending:reply", args=[original.pk])
    insert(writer, other_mailbox, url=url)
    saved = SavedDraft.objects.get()
    [upload] = saved.uploads.all()
    quoted = writer.get(reverse("sending:draft", args=[saved.pk])).context["html_initial"] or ""
    ours = reverse("mail:inline", args=[original.pk, original.attachments.get().pk])
    writer.post(reverse("sending:draft", args=[saved.pk]), fields(
        other_mailbox, body_html=f'<img src="{reverse("sending:draft-image", args=[saved.pk, upload.pk])}">'
                                 f'{quoted}<img src="{ours}">'))
    images = {part["Content-ID"]: part.get_content() for part in sent_message(servers).walk()
              if part.get_content_maintype() == "image"}
    assert images == {"<ours@x>": GIF, f"<{upload.content_id}>": PICTURE}


def test_only_the_drafts_author_sees_or_adds_its_images(writer, other_mailbox, client, django_user_model):
    insert(writer, other_mailbox)
    saved = SavedDraft.objects.get()
    [image] = saved.uploads.all()
    writer.post(reverse("sending:compose"), fields(other_mailbox, action="save", draft=saved.pk, attach=[
        SimpleUploadedFile("notes.txt", b"the notes\n", "text/plain")]))
    attached = saved.uploads.get(content_id="")
    src = reverse("sending:draft-image", args=[saved.pk, image.pk])
    assert writer.get(src).status_code == 200
    # An attached file is no image of the text, and an image is only under its own draft.
    assert writer.get(reverse("sending:draft-image", args=[saved.pk, attached.pk])).status_code == 404
    insert(writer, other_mailbox, subject="Another")
    other_draft = SavedDraft.objects.exclude(pk=saved.pk).get()
    assert writer.get(reverse("sending:draft-image", args=[other_draft.pk, image.pk])).status_code == 404

    stranger = django_user_model.objects.create_user("stranger", "s@example.test", "stranger-password-1")
    stranger_box = make_mailbox(stranger)
    client.force_login(stranger)
    assert client.get(src).status_code == 404
    assert insert(client, stranger_box, url=reverse("sending:draft", args=[saved.pk])).status_code == 404
    assert insert(client, stranger_box, draft=saved.pk).status_code == 404
    assert saved.uploads.count() == 2
    client.logout()
    assert client.get(src).status_code == 302  # to the sign-in page, as every page
