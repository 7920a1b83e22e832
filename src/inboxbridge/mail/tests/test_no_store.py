"""No cache keeps mail: every page and part of My Emails answers `Cache-Control: no-store, private`,
so neither a shared proxy nor the reader's own browser holds a message after they sign out."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.cache import get_max_age
from tests.factories import make_mailbox

from inboxbridge.mail.models import Attachment
from inboxbridge.mail.tests.helpers import READER_NAVIGATION, folder, message, store

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a")


def test_every_page_and_part_that_shows_mail_is_never_stored(client, django_user_model):
    user = django_user_model.objects.create_user("carol", "carol@example.test", "carol-password-1")
    mailbox = make_mailbox(user)
    email = store(mailbox, message(
        "Medical results", html='<p>Results</p><img src="cid:scan@x">',
        attachments=[("results.pdf", "application/pdf", b"%PDF results")], inline=[("scan@x", "image/png", PNG)],
    ))
    client.force_login(user)
    urls = {
        "list": reverse("mail:list"),
        "search": reverse("mail:list") + "?q=medical",
        "folder": reverse("mail:folder", args=[folder(mailbox).pk]),
        "message": reverse("mail:detail", args=[email.pk]),
        "thread": reverse("mail:thread", args=[email.thread_id]),
        "body": reverse("mail:body", args=[email.pk]),
        "attachment": reverse("mail:attachment", args=[Attachment.objects.get(email=email, filename="results.pdf").pk]),
        "inline image": reverse("mail:inline", args=[email.pk, Attachment.objects.get(content_id="scan@x").pk]),
    }
    for name, url in urls.items():
        response = client.get(url, **READER_NAVIGATION)
        assert response.status_code == 200, name
        directives = {d.strip().split("=")[0] for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, (name, response["Cache-Control"])
        assert not get_max_age(response), name
