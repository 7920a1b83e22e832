"""In Chromium: Insert image in the editor's toolbar refuses a file that is not an image and shows a
picture in the text at once; sent, it arrives inline under the cid its HTML names. A pasted and a
dropped image are inserted too, and come back when the draft is resumed."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from inboxbridge.sending.models import OutgoingMessage, SavedDraft
from inboxbridge.sending.tests.helpers import new_recipient, png, wait_for_messages
from inboxbridge.sending.tests.test_browser import sign_in, write

pytestmark = [pytest.mark.browser, pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]

PLAN = png(40, 30, (20, 160, 90))
DRAWN = "(img) => img.complete && img.naturalWidth > 0"
# What a browser hands the page for a screenshot pasted from the clipboard, and for a file dropped
# on the text: the file in a DataTransfer.
HAND_OVER = """([kind, name, data]) => {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    const files = new DataTransfer();
    files.items.add(new File([bytes], name, { type: "image/png" }));
    const editor = document.getElementById("editor");
    const box = editor.getBoundingClientRect();
    editor.dispatchEvent(kind === "paste"
        ? new ClipboardEvent("paste", { clipboardData: files, bubbles: true, cancelable: true })
        : new DragEvent("drop", { dataTransfer: files, bubbles: true, cancelable: true,
                                  clientX: box.left + 5, clientY: box.bottom - 5 }));
}"""


def open_compose(browser_context, live_server, django_user_model, connect_office365_mailbox, name: str):
    owner = django_user_model.objects.create_user(name, f"{name}@example.test", f"{name}-password-1")
    connect_office365_mailbox(owner=owner)
    page = sign_in(browser_context, live_server, name, f"{name}-password-1")
    page.click("nav.menu a:has-text('Compose')")
    page.wait_for_selector("#editor")
    return page


def test_insert_image_shows_it_in_the_editor_and_the_message_arrives_with_it(
        browser_context, live_server, connect_office365_mailbox, mail_settings, django_user_model, tmp_path):
    to = new_recipient(mail_settings, "pia")
    (tmp_path / "plan.png").write_bytes(PLAN)
    (tmp_path / "minutes.pdf").write_bytes(b"%PDF-1.4 minutes\n" * 50)
    page = open_compose(browser_context, live_server, django_user_model, connect_office365_mailbox, "noa")
    page.fill("#id_to", to)
    page.fill("#id_subject", "Floor plan")
    write(page, "The plan: ")

    with page.expect_file_chooser() as chooser:
        page.click("#editor-toolbar [data-command=image]")
    assert chooser.value.is_multiple()
    chooser.value.set_files(str(tmp_path / "minutes.pdf"))
    page.wait_for_selector("#editor-message:has-text('The image was not inserted.')")
    assert "“minutes.pdf” is not an image." in page.inner_text("#editor-message")
    assert page.locator("#editor img").count() == 0

    with page.expect_file_chooser() as chooser:
        page.click("#editor-toolbar [data-command=image]")
    chooser.value.set_files(str(tmp_path / "plan.png"))
    image = page.wait_for_selector("#editor img")
    page.wait_for_function(f"() => ({DRAWN})(document.querySelector('#editor img'))")
    assert page.is_hidden("#editor-message")
    saved = SavedDraft.objects.get()
    [upload] = saved.uploads.all()
    assert image.get_attribute("src") == reverse("sending:draft-image", args=[saved.pk, upload.pk])
    assert page.url.endswith(f"/drafts/{saved.pk}/")
    assert page.locator("#row-keep_upload").count() == 0  # not listed among the attached files
    page.keyboard.type(" (ground floor)")

    page.click("#send-button")
    page.wait_for_selector("#outbox")
    call_command("db_worker", "--batch", verbosity=0)
    assert OutgoingMessage.objects.get().state == "sent"

    [(received, _flags)] = wait_for_messages(mail_settings, to)
    assert "The plan:" in received.get_body(("plain",)).get_content()
    related = received.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    html = related.get_body(("html",)).get_content()
    [cid] = re.findall(r'<img src="cid:([^"]+)"', html)
    assert cid == upload.content_id and "(ground floor)" in html
    [part] = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    assert part["Content-ID"] == f"<{cid}>"
    assert hashlib.sha256(part.get_content()).digest() == hashlib.sha256(PLAN).digest()
    assert not list(received.iter_attachments())


def test_a_pasted_and_a_dropped_image_are_inserted_and_come_back_with_the_draft(
        browser_context, live_server, connect_office365_mailbox, mail_settings, django_user_model):
    page = open_compose(browser_context, live_server, django_user_model, connect_office365_mailbox, "oda")
    page.fill("#id_subject", "Screenshots")
    write(page, "First:")
    page.evaluate(HAND_OVER, ["paste", "image.png", base64.b64encode(PLAN).decode()])
    page.wait_for_function("() => document.querySelectorAll('#editor img').length === 1")
    page.evaluate(HAND_OVER, ["drop", "dropped.png", base64.b64encode(png(12, 12, (0, 0, 255))).decode()])
    page.wait_for_function("() => document.querySelectorAll('#editor img').length === 2")
    assert sorted(upload.filename for upload in SavedDraft.objects.get().uploads.all()) == ["dropped.png", "image.png"]
    # Saved by itself with the images in its HTML; resumed, the editor shows them again.
    page.wait_for_function("() => !document.getElementById('send-button').disabled")
    page.wait_for_selector("#draft-status:has-text('Draft saved')")
    page.click("#save-draft-button")
    page.wait_for_selector(".messages:has-text('Draft saved')")
    assert SavedDraft.objects.get().body_html.count('src="cid:image-') == 2
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('#editor img').length === 2")
    page.wait_for_function(f"() => Array.from(document.querySelectorAll('#editor img')).every({DRAWN})")
