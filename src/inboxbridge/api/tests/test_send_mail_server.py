"""Against Postfix and Dovecot: a send through the API arrives, and the same Idempotency-Key sent
again (a client retrying after a timeout, before and after the worker sent it) sends it once; an
HTML message with an inline image arrives with the image under the cid its HTML shows."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult
from tests.factories import make_mailbox

from inboxbridge.api.tests.conftest import bearer, make_token
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.tasks import send_outgoing_message
from inboxbridge.sending.tests.helpers import new_recipient, wait_for_messages

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


def run_queued_sends() -> list[str]:
    """What a worker does with the send tasks waiting in the queue (each task once)."""
    outcomes = []
    for row in DBTaskResult.objects.filter(task_path=send_outgoing_message.module_path, status="READY"):
        outcomes.append(send_outgoing_message.call(*row.args_kwargs["args"]))
        row.delete()
    return outcomes


@pytest.fixture
def sender(django_user_model, mail_stack, identity, settings) -> Mailbox:
    """Alice's own mailbox on the stack, sending through Postfix's submission port."""
    settings.CA_BUNDLE = str(identity.ca_file)
    alice = django_user_model.objects.create_user("alice", "alice@example.test", "alice-password-1")
    address = f"alice-{uuid.uuid4().hex[:8]}@{mail_stack.domain}"
    password = mail_stack.add_user(address)
    return make_mailbox(alice, email_address=address, username=address, password=password,
                        imap_host=mail_stack.host, imap_port=mail_stack.imaps_port, smtp_host=mail_stack.host,
                        smtp_port=mail_stack.submission_port, smtp_security="starttls")


def test_the_same_idempotency_key_twice_sends_one_message(client, mail_stack, sender,
                                                          django_capture_on_commit_callbacks):
    alice, mailbox, address = sender.owner, sender, sender.email_address
    recipient = new_recipient(mail_stack)
    token = make_token(alice, ["mail:send"])
    body = json.dumps({"from_mailbox": mailbox.pk, "to": [{"name": "Rita", "address": recipient}],
                       "subject": "Order 42 confirmed", "text": "Your order is on its way.\n"})

    def post():
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/outbox", data=body, content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY="order-42-confirmation", **bearer(token))

    first, retried = post(), post()  # the client did not see the first answer and tries again
    assert first.status_code == retried.status_code == 202
    assert retried.json()["id"] == first.json()["id"] and retried["Idempotent-Replayed"] == "true"
    assert run_queued_sends() == ["sent"]

    late = post()  # once more, after the message went out
    assert late.json()["id"] == first.json()["id"] and late.json()["state"] == "sent"
    assert run_queued_sends() == []

    [(delivered, _flags)] = wait_for_messages(mail_stack, recipient)
    assert delivered["Subject"] == "Order 42 confirmed" and delivered["From"].addresses[0].addr_spec == address
    assert delivered["Message-ID"] == f"<{first.json()['internet_message_id']}>"
    # Postfix delivers asynchronously: wait the helper's full time for a second message that never comes.
    assert len(wait_for_messages(mail_stack, recipient, count=2)) == 1


def test_an_html_message_with_an_inline_image_arrives_whole(client, mail_stack, sender,
                                                            django_capture_on_commit_callbacks):
    recipient = new_recipient(mail_stack)
    logo = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    message = json.dumps({"from_mailbox": sender.pk, "to": [{"address": recipient}], "subject": "Your receipt",
                          "html": '<p>Paid, <b>thank you</b>.</p><img src="cid:logo.png"><script>x()</script>'})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/outbox/with-attachments", {
            "message": message, "inline": [SimpleUploadedFile("logo.png", logo, content_type="image/png")],
        }, **bearer(make_token(sender.owner, ["mail:send"])))
    assert answer.status_code == 202, answer.content
    assert run_queued_sends() == ["sent"]

    [(delivered, _flags)] = wait_for_messages(mail_stack, recipient)
    html = delivered.get_body(("html",))
    assert "<b>thank you</b>" in html.get_content() and "<script" not in html.get_content()
    assert "Paid, thank you." in delivered.get_body(("plain",)).get_content()
    [image] = [part for part in delivered.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo.png>" and image.get_content() == logo
