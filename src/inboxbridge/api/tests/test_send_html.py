"""HTML messages through the API: the HTML is sanitised as Compose's is and sent with a plain-text
alternative; images sent as `inline` parts travel in multipart/related under the cid the HTML
names; every mistake (a cid without its image, an image the HTML does not show, a file that is not
an image, too much HTML) is a 422 naming the field, and nothing is queued."""

from __future__ import annotations

import email
import email.policy
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inboxbridge.api.tests.conftest import World, bearer, make_token
from inboxbridge.sending.models import OutgoingMessage

pytestmark = pytest.mark.django_db

API = "/api/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
NEWSLETTER = ('<h1>Order 42</h1><p>Thanks, <b>Dana</b>!</p><img src="cid:logo.png" alt="Logo">'
              '<script>steal()</script><a href="https://shop.example/track" onclick="steal()">Track it</a>')


@pytest.fixture
def alice_token(world: World) -> str:
    return make_token(world.alice)


def queued_mime(answer: Any) -> email.message.EmailMessage:
    assert answer.status_code == 202, answer.content
    raw = bytes(OutgoingMessage.objects.get(pk=answer.json()["id"]).mime)
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def send_json(client: Any, world: World, token: str, **fields: Any) -> Any:
    body = {"from_mailbox": world.own.mailbox.pk, "to": [{"address": "dana@example.test"}], "subject": "Order 42",
            **fields}
    return client.post(f"{API}/outbox", data=json.dumps(body), content_type="application/json", **bearer(token))


def send_multipart(client: Any, world: World, token: str, html: str, **files: list[SimpleUploadedFile]) -> Any:
    message = json.dumps({"from_mailbox": world.own.mailbox.pk, "to": [{"address": "dana@example.test"}],
                          "subject": "Order 42", "html": html})
    return client.post(f"{API}/outbox/with-attachments", {"message": message, **files}, **bearer(token))


def test_html_is_sanitised_and_sent_with_a_text_alternative(client, world: World, alice_token: str):
    sent = queued_mime(send_json(client, world, alice_token, html=NEWSLETTER.replace('<img src="cid:logo.png" '
                                                                                     'alt="Logo">', "")))

    assert sent.get_content_type() == "multipart/alternative"
    html = sent.get_body(("html",)).get_content()
    assert "<b>Dana</b>" in html and 'href="https://shop.example/track"' in html
    assert "steal()" not in html and "<script" not in html
    text = sent.get_body(("plain",)).get_content()
    assert "Thanks, Dana!" in text and "<b>" not in text


def test_the_text_given_with_the_html_is_its_alternative(client, world: World, alice_token: str):
    sent = queued_mime(send_json(client, world, alice_token, html="<p>Rich</p>", text="Plain words.\n"))
    assert sent.get_body(("plain",)).get_content().strip() == "Plain words."
    assert "<p>Rich</p>" in sent.get_body(("html",)).get_content()


def test_an_inline_image_travels_under_the_cid_the_html_names(client, world: World, alice_token: str):
    sent = queued_mime(send_multipart(
        client, world, alice_token, NEWSLETTER,
        inline=[SimpleUploadedFile("logo.png", PNG, content_type="image/png")],
        attachments=[SimpleUploadedFile("invoice.pdf", b"%PDF-1.7 invoice", content_type="application/pdf")]))

    related = next(part for part in sent.walk() if part.get_content_type() == "multipart/related")
    html_part, image = related.iter_parts()
    assert 'src="cid:logo.png"' in html_part.get_content()
    assert image["Content-ID"] == "<logo.png>" and image.get_content_type() == "image/png"
    assert image.get_content() == PNG and image.get_content_disposition() == "inline"
    assert {part.get_filename() for part in sent.iter_attachments()} == {"invoice.pdf"}


@pytest.mark.parametrize(("html", "files", "field", "words"), [
    (NEWSLETTER, {}, "html", "cid:logo.png names no image of this message"),
    ("<p>No picture here</p>", {"inline": [SimpleUploadedFile("logo.png", PNG, content_type="image/png")]},
     "inline.0", "The HTML does not show logo.png"),
    (NEWSLETTER, {"inline": [SimpleUploadedFile("logo.png", b"%PDF", content_type="application/pdf")]},
     "inline.0", "logo.png is application/pdf: only images are shown inline"),
    ('<img src="cid:my logo.png">', {"inline": [SimpleUploadedFile("my logo.png", PNG, content_type="image/png")]},
     "inline.0", "An inline image's file name is its cid"),
    ("", {"inline": [SimpleUploadedFile("logo.png", PNG, content_type="image/png")]},
     "inline", "Inline images need an HTML body"),
])
def test_each_mistake_names_its_field_and_queues_nothing(client, world: World, alice_token: str,
                                                         html: str, files: dict, field: str, words: str):
    before = OutgoingMessage.objects.count()

    answer = send_multipart(client, world, alice_token, html, **files)

    assert answer.status_code == 422, answer.content
    problem = answer.json()
    assert [error["field"] for error in problem["errors"]] == [field] and words in problem["detail"]
    assert OutgoingMessage.objects.count() == before


def test_more_html_than_the_limit_is_refused(client, world: World, alice_token: str, settings):
    settings.HTML_MAX_BYTES = 100
    answer = send_json(client, world, alice_token, html="<p>" + "x" * 200 + "</p>")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "html" and "At most 100" in answer.json()["detail"]
