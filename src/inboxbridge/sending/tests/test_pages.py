"""Compose, Reply and the Outbox pages: what they accept, what they build, and that every URL
answers 404 to anyone but the message's author."""

from __future__ import annotations

import email
import email.policy

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from tests.factories import make_mailbox

from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import mime
from inboxbridge.sending.addresses import parse_addresses
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.tests.helpers import queue

pytestmark = pytest.mark.django_db


def post_compose(client, mailbox, **fields):
    data = {"mailbox": mailbox.pk, "to": "", "cc": "", "bcc": "", "subject": "Hi", "body": "Hello."}
    data.update(fields)
    return client.post(reverse("sending:compose"), data)


def test_compose_queues_the_built_message_and_enqueues_it_on_commit(writer, other_mailbox,
                                                                   django_capture_on_commit_callbacks):
    page = writer.get(reverse("sending:compose"))
    assert page.status_code == 200 and "writer@example.test" in page.content.decode()
    assert 'href="/mail/outbox/compose/"' in page.content.decode()  # the Compose link in the main menu
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_compose(writer, other_mailbox, to="Ann <ann@example.test>; bob@EXAMPLE.test",
                              bcc="carl@example.test", subject="Grüße", body="Line one\nLine two")
    assert answer.status_code == 302 and answer.url == reverse("sending:outbox")
    sent = OutgoingMessage.objects.get()
    assert sent.to == [["Ann", "ann@example.test"], ["", "bob@example.test"]]
    assert sent.bcc == [["", "carl@example.test"]]
    assert (sent.state, sent.author, sent.mailbox) == ("queued", other_mailbox.owner, other_mailbox)
    assert DBTaskResult.objects.filter(args_kwargs__args=[sent.pk], status="READY").exists()
    parsed = email.message_from_bytes(bytes(sent.mime), policy=email.policy.default)
    assert parsed["Subject"] == "Grüße" and parsed["From"] == "writer@example.test"
    assert parsed["Message-ID"] == f"<{sent.message_id}>" and sent.message_id.endswith("@example.test")
    assert parsed["Date"] and parsed["Bcc"] is None and parsed["In-Reply-To"] is None
    assert parsed.get_content().replace("\r\n", "\n") == "Line one\nLine two\n"
    assert bytes(sent.mime).isascii() and b"\r\n" in bytes(sent.mime)
    outbox = writer.get(reverse("sending:outbox")).content.decode()
    assert "Grüße" in outbox and 'data-state="queued"' in outbox


@pytest.mark.parametrize(("fields", "error"), [
    ({"to": "ann@example.test bob@example.test"}, "Not an email address"),
    ({"to": "ann@", "cc": "x"}, "Not an email address"),
    ({"to": ""}, "Add at least one recipient."),
    ({"to": "ann@example.test", "subject": "Hi\r\nBcc: victim@example.test"}, "single line"),
])
def test_compose_refuses_what_cannot_be_sent(writer, other_mailbox, fields, error):
    answer = post_compose(writer, other_mailbox, **fields)
    assert answer.status_code == 400 and error in answer.content.decode()
    assert not OutgoingMessage.objects.exists()


def test_compose_only_sends_from_the_users_own_usable_mailbox(writer, other_mailbox, django_user_model):
    stranger = django_user_model.objects.create_user("stranger", "s@example.test", "stranger-password-1")
    foreign = make_mailbox(stranger)
    answer = post_compose(writer, foreign, to="ann@example.test")
    assert answer.status_code == 400 and not OutgoingMessage.objects.exists()
    Mailbox.objects.filter(pk=other_mailbox.pk).update(needs_reconnect=True)
    page = writer.get(reverse("sending:compose")).content.decode()
    assert 'id="compose-form"' not in page and "cannot send until it is reconnected" in page
    assert post_compose(writer, other_mailbox, to="ann@example.test").status_code == 400
    assert not OutgoingMessage.objects.exists()


def test_without_a_mailbox_compose_says_to_connect_one(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("new", "new@example.test", "new-password-1"))
    page = client.get(reverse("sending:compose")).content.decode()
    assert "connect your mailbox first" in page and reverse("mailboxes:email-configuration") in page


def test_reply_all_prefills_the_answer(writer, other_mailbox):
    parent = store(other_mailbox, message(
        "Plans", sender="Bob <bob@elsewhere.test>", to="writer@example.test, Carol <carol@elsewhere.test>",
        message_id="plans@elsewhere.test", text="First line\n\nSecond line",
    ))
    form = writer.get(reverse("sending:reply-all", args=[parent.pk])).context["form"]
    assert form.initial["to"] == "Bob <bob@elsewhere.test>"
    assert form.initial["cc"] == "Carol <carol@elsewhere.test>"
    assert form.initial["subject"] == "Re: Plans"
    assert "Bob <bob@elsewhere.test> wrote:\n> First line\n>\n> Second line\n" in form.initial["body"]
    assert writer.get(reverse("sending:reply", args=[parent.pk])).context["form"].initial["cc"] == ""


def test_pages_that_show_mail_are_never_stored_by_a_cache(writer, other_mailbox):
    parent = store(other_mailbox, message("Salary review", text="Confidential figures"))
    post_compose(writer, other_mailbox, to="bob@elsewhere.test", body="Queued and private.")
    queued = OutgoingMessage.objects.get(mailbox=other_mailbox)
    for url in (reverse("sending:compose"), reverse("sending:reply", args=[parent.pk]),
                reverse("sending:reply-all", args=[parent.pk]), reverse("sending:outbox"),
                reverse("sending:detail", args=[queued.pk])):
        response = writer.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, (url, response["Cache-Control"])


def test_retry_requeues_a_failed_message(writer, other_mailbox, django_capture_on_commit_callbacks):
    failed = queue(other_mailbox, to="ann@example.test")
    OutgoingMessage.objects.filter(pk=failed.pk).update(state="failed", attempts=3, last_error="550 no")
    page = writer.get(reverse("sending:detail", args=[failed.pk])).content.decode()
    assert "550 no" in page and "retry-button" in page
    with django_capture_on_commit_callbacks(execute=True):
        answer = writer.post(reverse("sending:retry", args=[failed.pk]))
    assert answer.status_code == 302
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.last_error) == ("queued", 0, "")
    assert DBTaskResult.objects.filter(args_kwargs__args=[failed.pk]).exists()
    # A second click changes nothing.
    writer.post(reverse("sending:retry", args=[failed.pk]))
    assert OutgoingMessage.objects.get(pk=failed.pk).state == "queued"


def test_cancel_takes_a_queued_message_out_and_discards_a_failed_one(writer, other_mailbox):
    queued = queue(other_mailbox, to="ann@example.test", subject="Not yet")
    page = writer.get(reverse("sending:detail", args=[queued.pk])).content.decode()
    assert "Cancel sending</button>" in page and "retry-button" not in page
    answer = writer.post(reverse("sending:cancel", args=[queued.pk]), follow=True)
    assert "“Not yet” is cancelled and will not be sent." in answer.content.decode()
    assert OutgoingMessage.objects.get(pk=queued.pk).state == "cancelled"
    page = writer.get(reverse("sending:detail", args=[queued.pk])).content.decode()
    assert "cancel-button" not in page and 'data-state="cancelled"' in page

    failed = queue(other_mailbox, to="ann@example.test", subject="Bounced")
    OutgoingMessage.objects.filter(pk=failed.pk).update(state="failed", last_error="550 no")
    assert "Discard</button>" in writer.get(reverse("sending:detail", args=[failed.pk])).content.decode()
    writer.post(reverse("sending:cancel", args=[failed.pk]))
    assert OutgoingMessage.objects.get(pk=failed.pk).state == "cancelled"

    sent = queue(other_mailbox, to="ann@example.test", subject="Gone")
    OutgoingMessage.objects.filter(pk=sent.pk).update(state="sent")
    answer = writer.post(reverse("sending:cancel", args=[sent.pk]), follow=True)
    assert "can no longer be cancelled" in answer.content.decode()
    assert OutgoingMessage.objects.get(pk=sent.pk).state == "sent"
    assert writer.get(reverse("sending:cancel", args=[sent.pk])).status_code == 405


def test_a_copy_that_could_not_be_saved_can_be_asked_for_again(writer, other_mailbox):
    sent = queue(other_mailbox, to="ann@example.test", subject="Quota")
    OutgoingMessage.objects.filter(pk=sent.pk).update(
        state="sent", sent_copy="failed", sent_copy_error="The message was sent, but its copy could not be saved")
    page = writer.get(reverse("sending:detail", args=[sent.pk])).content.decode()
    assert "its copy could not be saved" in page and "save-copy-button" in page
    answer = writer.post(reverse("sending:save-copy", args=[sent.pk]), follow=True)
    page = answer.content.decode()
    assert "is being saved in the Sent folder" in page and "save-copy-button" not in page
    assert OutgoingMessage.objects.get(pk=sent.pk).sent_copy == "pending"
    again = writer.post(reverse("sending:save-copy", args=[sent.pk]), follow=True)
    assert "has no copy waiting to be saved again" in again.content.decode()


def test_other_users_get_404_on_every_url(client, other_mailbox, django_user_model):
    mine = queue(other_mailbox, to="ann@example.test", subject="Private plans")
    OutgoingMessage.objects.filter(pk=mine.pk).update(state="failed")
    parent = store(other_mailbox, message("Owner's mail", message_id="owner@x"))
    intruder = django_user_model.objects.create_user("intruder", "i@example.test", "intruder-password-1")
    make_mailbox(intruder)
    client.force_login(intruder)
    assert client.get(reverse("sending:detail", args=[mine.pk])).status_code == 404
    assert client.post(reverse("sending:retry", args=[mine.pk])).status_code == 404
    assert client.post(reverse("sending:cancel", args=[mine.pk])).status_code == 404
    assert client.post(reverse("sending:save-copy", args=[mine.pk])).status_code == 404
    assert client.get(reverse("sending:reply", args=[parent.pk])).status_code == 404
    assert client.post(reverse("sending:reply", args=[parent.pk]), {"to": "x@example.test"}).status_code == 404
    assert client.get(reverse("sending:reply-all", args=[parent.pk])).status_code == 404
    assert "Private plans" not in client.get(reverse("sending:outbox")).content.decode()
    assert OutgoingMessage.objects.get(pk=mine.pk).state == "failed"


def test_anonymous_visitors_are_sent_to_sign_in(client, other_mailbox):
    mine = queue(other_mailbox, to="ann@example.test")
    for url in (reverse("sending:outbox"), reverse("sending:compose"), reverse("sending:detail", args=[mine.pk])):
        answer = client.get(url)
        assert answer.status_code == 302 and answer.url.startswith(reverse("accounts:login"))


def test_address_lists_as_people_type_them():
    assert parse_addresses('"Smith, Jane" <jane@example.test>; bob@example.test,, ') == [
        ("Smith, Jane", "jane@example.test"), ("", "bob@example.test")]
    with pytest.raises(ValidationError):  # a non-ASCII local part needs SMTPUTF8, which not every server has
        parse_addresses("jörg@bücher.example")
    assert parse_addresses("info@bücher.example") == [("", "info@xn--bcher-kva.example")]
    with pytest.raises(ValidationError, match="not email addresses"):
        parse_addresses("a@, b@")


def test_built_messages_are_7bit_and_keep_long_conversations_short():
    data = mime.build_message(
        sender=("Zoë", "zoe@example.test"), to=[("Ann", "ann@example.test")], cc=[], subject="Ünïcode " * 20,
        body="x" * 2000 + "\n", message_id="id@example.test", when=timezone.now(), in_reply_to="p@x",
        references=[f"r{n}@x" for n in range(50)],
    )
    assert data.isascii() and max(len(line) for line in data.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    refs = parsed["References"].split()
    assert len(refs) == mime.MAX_REFERENCES and refs[0] == "<r0@x>" and refs[-1] == "<r49@x>"
    assert parsed["From"].addresses[0].display_name == "Zoë"
