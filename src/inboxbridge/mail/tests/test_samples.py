"""Every sample message of CPython's email test suite opens without an error page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape
from tests.factories import make_mailbox
from tests.samples import require_sample_messages

from inboxbridge.mail.models import Attachment
from inboxbridge.mail.tests.helpers import store


@pytest.mark.django_db
def test_every_cpython_sample_message_opens(client, django_user_model):
    samples = require_sample_messages()
    assert len(samples) > 40
    user = django_user_model.objects.create_user("reader", "reader@example.test", "reader-password-1")
    client.force_login(user)
    mailbox = make_mailbox(user)
    problems = []
    for uid, path in enumerate(samples, 1):
        email = store(mailbox, path.read_bytes(), uid=uid)
        urls = [reverse("mail:detail", args=[email.pk])]
        if email.body_html:
            urls.append(reverse("mail:body", args=[email.pk]))
        urls += [reverse("mail:attachment", args=[a.pk])
                 for a in Attachment.objects.filter(email=email, blob__isnull=False)]
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                problems.append(f"{path.name}: {url} answered {response.status_code}")
        page = client.get(urls[0]).content.decode()
        subject = escape(email.subject) if email.subject else "(no subject)"
        if subject not in page:
            problems.append(f"{path.name}: subject {email.subject!r} not on the page")
    listing = client.get(reverse("mail:list"))
    assert listing.status_code == 200
    assert problems == []
