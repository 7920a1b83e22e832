"""Users see only their own mail: another user's ids answer 404 on every URL of My Emails."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.mail.models import Email
from inboxbridge.mail.queries import MailFilter, email_page, visible_mailboxes
from inboxbridge.mail.tests.helpers import mail_urls, message, store
from inboxbridge.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a")


@pytest.fixture
def first_users_mail(django_user_model):
    owner = django_user_model.objects.create_user("owner", "owner@example.test", "owner-password-1")
    mailbox = make_mailbox(owner)
    email = store(mailbox, message(
        "Owner's secret", text=None, html='<p>Hi</p><img src="cid:logo@x">',
        message_id="root@x", attachments=[("secret.pdf", "application/pdf", b"%PDF secret")],
        inline=[("logo@x", "image/png", PNG)],
    ))
    store(mailbox, message("Re: Owner's secret", in_reply_to="root@x"))
    return {"owner": owner, "mailbox": mailbox, "email": email}


@pytest.fixture
def intruder(client, django_user_model):
    user = django_user_model.objects.create_user("intruder", "intruder@example.test", "intruder-password-1")
    make_mailbox(user)  # has mail of their own: the ids are not simply unknown
    client.force_login(user)
    return client


def urls_of(data) -> dict[str, tuple[str, str]]:
    return mail_urls(data["email"], attachment="secret.pdf", content_id="logo@x")


def test_the_owner_reaches_every_url(client, first_users_mail):
    client.force_login(first_users_mail["owner"])
    for name, (method, url) in urls_of(first_users_mail).items():
        response = client.post(url, {"seen": "1", "flagged": "1"}) if method == "post" else client.get(url)
        assert response.status_code in (200, 302), name


def test_a_second_user_gets_404_for_the_first_users_urls(intruder, first_users_mail):
    for name, (method, url) in urls_of(first_users_mail).items():
        response = intruder.post(url, {"seen": "0", "flagged": "1"}) if method == "post" else intruder.get(url)
        assert response.status_code == 404, name
    email = Email.objects.get(pk=first_users_mail["email"].pk)
    assert not email.flags_pending  # the POST changed nothing


def test_a_second_user_never_lists_or_finds_the_first_users_mail(intruder, first_users_mail):
    listing = intruder.get(reverse("mail:list")).content.decode()
    assert "secret" not in listing
    assert "No mail matches" in intruder.get(reverse("mail:list"), {"q": "secret"}).content.decode()
    assert "secret" not in intruder.get(reverse("mail:list"), {"unread": "1"}).content.decode()
    assert "Unread (0)" in listing


def test_visible_mailboxes_is_the_owners_own_including_disconnected_ones(first_users_mail, django_user_model):
    owner = first_users_mail["owner"]
    first_users_mail["mailbox"].active = False
    first_users_mail["mailbox"].save()
    kept = email_page(owner, MailFilter()).emails
    assert {e.subject for e in kept} == {"Owner's secret", "Re: Owner's secret"}
    system = Mailbox.objects.create(owner=None, label="System", email_address="system@example.test",
                                    account_type="other")
    assert system not in visible_mailboxes(owner)
    from django.contrib.auth.models import AnonymousUser

    assert not visible_mailboxes(AnonymousUser()).exists()
