"""Forward, Reply All and rich text against real Postfix and Dovecot, through the Compose pages: what
arrives is byte-correct (each attachment's SHA-256, the HTML with its text alternative and inline
image, the threading headers), and a reply threads with its original after the next sync."""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import re
import uuid
from email.message import EmailMessage
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.autoresponse.tests.helpers import inbox, person, sync
from inboxbridge.mail.models import Email
from inboxbridge.mail.tests.helpers import expunge_all, raw_inbox
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.models import OutgoingMessage, SavedDraft
from inboxbridge.sending.tests.helpers import png
from inboxbridge.sync.tests.helpers import select_folders

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n" + os.urandom(40_000)
SHEET = os.urandom(25_000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(3_000)


@pytest.fixture(autouse=True)
def _stack_settings(settings, mail_stack, identity):
    settings.CA_BUNDLE = str(identity.ca_file)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def ivy(mail_stack: Any, django_user_model: Any, client: Any) -> Mailbox:
    """Ivy's own mailbox (account type Other) on the stack, INBOX and Sent synced; she is signed in."""
    user = django_user_model.objects.create_user("ivy", "ivy@example.test", "ivy-password-1", first_name="Ivy")
    address = f"ivy-{uuid.uuid4().hex[:6]}@{mail_stack.domain}"
    password = mail_stack.add_user(address)
    mailbox = make_mailbox(
        user, folders=(), email_address=address, username=address, password=password,
        imap_host=mail_stack.host, imap_port=mail_stack.imaps_port, imap_ssl=True,
        smtp_host=mail_stack.host, smtp_port=mail_stack.submission_port, smtp_security="starttls",
    )
    select_folders(mailbox, "INBOX", "Sent")
    client.force_login(user)
    return mailbox


def received(mail_stack: Any, mailbox: Mailbox, message: EmailMessage, sender: str) -> Email:
    mail_stack.deliver(message.as_bytes(policy=email.policy.SMTP), to=mailbox.email_address, sender=sender)
    sync(mailbox)
    return Email.objects.get(mailbox=mailbox, message_id=message["Message-ID"].strip("<>"))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_of(message: EmailMessage) -> dict[str, str]:
    return {part.get_filename(): sha(part.get_content()) for part in message.iter_attachments()
            if part.get_content_type() != "message/rfc822"}


def test_a_forward_keeps_the_chosen_attachments_byte_for_byte_and_the_thread(mail_stack, ivy, client):
    carol = person(mail_stack, "carol")
    frank = person(mail_stack, "frank")
    original = EmailMessage()
    original["From"], original["To"], original["Subject"] = f"Carol <{carol}>", ivy.email_address, "Q3 figures"
    original["Message-ID"] = f"<q3-{uuid.uuid4().hex[:8]}@fabrikam.test>"
    original["References"] = "<kickoff@fabrikam.test>"
    original.set_content("The figures are attached.\n")
    original.add_attachment(PDF, "application", "pdf", filename="q3.pdf")
    original.add_attachment(SHEET, "application", "vnd.ms-excel", filename="q3 détail.xls")
    email_row = received(mail_stack, ivy, original, carol)

    page = client.get(reverse("sending:forward", args=[email_row.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["subject"] == "Fwd: Q3 figures"
    assert "---------- Forwarded message ----------" in form.initial["body"]
    assert f"From: Carol <{carol}>" in form.initial["body"]
    parts = {part.filename: part.pk for part in form.originals.values()}
    assert set(parts) == {"q3.pdf", "q3 détail.xls"} and sorted(form.initial["keep_original"]) == sorted(parts.values())

    answer = client.post(reverse("sending:forward", args=[email_row.pk]), {
        "mailbox": ivy.pk, "to": frank, "subject": form.initial["subject"],
        "body": "Frank, see below.\n" + form.initial["body"], "keep_original": list(parts.values()),
        "forward_as_attachment": "on", "action": "send",
    })
    assert answer.status_code == 302, answer.content.decode()[:3000]

    [arrived] = inbox(mail_stack, frank, expect=1)
    assert arrived["Subject"] == "Fwd: Q3 figures"
    assert arrived["In-Reply-To"] is None
    assert arrived["References"].split() == ["<kickoff@fabrikam.test>", original["Message-ID"]]
    assert files_of(arrived) == {"q3.pdf": sha(PDF), "q3 détail.xls": sha(SHEET)}
    [eml] = [part for part in arrived.iter_attachments() if part.get_content_type() == "message/rfc822"]
    forwarded = eml.get_content()
    assert forwarded["Message-ID"] == original["Message-ID"] and forwarded["Subject"] == "Q3 figures"
    assert files_of(forwarded) == {"q3.pdf": sha(PDF), "q3 détail.xls": sha(SHEET)}
    assert "Frank, see below." in arrived.get_body(("plain",)).get_content()
    assert not SavedDraft.objects.exists()  # the draft it was written in is gone once queued

    # Unticking one leaves it out.
    client.post(reverse("sending:forward", args=[email_row.pk]), {
        "mailbox": ivy.pk, "to": frank, "subject": "Only the PDF", "body": "x", "keep_original": [parts["q3.pdf"]],
        "action": "send",
    })
    only = next(m for m in inbox(mail_stack, frank, expect=2) if m["Subject"] == "Only the PDF")
    assert files_of(only) == {"q3.pdf": sha(PDF)}


def test_reply_all_reaches_everyone_but_the_writer_and_threads_after_the_next_sync(mail_stack, ivy, client):
    carol, dave, erin = person(mail_stack, "carol"), person(mail_stack, "dave"), person(mail_stack, "erin")
    original = EmailMessage()
    original["From"], original["Subject"] = f"Carol <{carol}>", "Offsite agenda"
    original["To"], original["Cc"] = f"{ivy.email_address}, Dave <{dave}>", erin
    original["Message-ID"] = f"<agenda-{uuid.uuid4().hex[:8]}@fabrikam.test>"
    original.set_content("Ideas welcome.\n")
    email_row = received(mail_stack, ivy, original, carol)

    form = client.get(reverse("sending:reply-all", args=[email_row.pk])).context["form"]
    assert form.initial["to"] == f"Carol <{carol}>"
    assert form.initial["cc"] == f"Dave <{dave}>, {erin}"  # not Ivy herself
    assert client.post(reverse("sending:reply-all", args=[email_row.pk]), {
        "mailbox": ivy.pk, "to": form.initial["to"], "cc": form.initial["cc"], "subject": form.initial["subject"],
        "body": "Count me in.\n" + form.initial["body"], "action": "send",
    }).status_code == 302

    for address in (carol, dave, erin):
        [reply] = inbox(mail_stack, address, expect=1)
        assert reply["Subject"] == "Re: Offsite agenda"
        assert reply["In-Reply-To"] == original["Message-ID"]
        assert reply["References"] == original["Message-ID"]
    assert OutgoingMessage.objects.get().sent_copy == "saved"

    sync(ivy)  # the copy in Sent comes back as mail of the mailbox, in the original's thread
    reply_row = Email.objects.get(mailbox=ivy, message_id=OutgoingMessage.objects.get().message_id)
    email_row.refresh_from_db()
    assert reply_row.thread_id == email_row.thread_id is not None


def test_a_rich_text_reply_carries_html_its_text_alternative_and_the_inline_image(mail_stack, ivy, client):
    carol = person(mail_stack, "carol")
    original = EmailMessage()
    original["From"], original["To"], original["Subject"] = f"Carol <{carol}>", ivy.email_address, "Chart"
    original["Message-ID"] = f"<chart-{uuid.uuid4().hex[:8]}@fabrikam.test>"
    original.set_content("See the chart.\n")
    original.add_alternative('<p>See the chart:</p><img src="cid:chart@fabrikam.test" alt="chart">', subtype="html")
    original.get_payload()[1].add_related(PNG, "image", "png", cid="<chart@fabrikam.test>", filename="chart.png")
    email_row = received(mail_stack, ivy, original, carol)

    page = client.get(reverse("sending:reply", args=[email_row.pk]))
    html = page.context["html_initial"]
    # The editor shows the image from this site; it is sent named by its Content-ID again.
    chart = email_row.attachments.get(content_id__contains="chart")
    assert f'src="{reverse("mail:inline", args=[email_row.pk, chart.pk])}"' in html and "<blockquote" in html
    assert client.post(reverse("sending:reply", args=[email_row.pk]), {
        "mailbox": ivy.pk, "to": carol, "subject": "Re: Chart", "body": "ignored: the HTML is the message",
        "body_html": '<p><b>Looks good</b>, thanks!<script>alert(1)</script></p>' + html, "action": "send",
    }).status_code == 302

    [reply] = inbox(mail_stack, carol, expect=1)
    assert reply.get_content_type() == "multipart/alternative"
    text = reply.get_body(("plain",)).get_content()
    assert "Looks good, thanks!" in text and "<b>" not in text
    # The plain-text part quotes the answered message as mail clients do.
    assert f"Carol <{carol}> wrote:\n> See the chart:" in text.replace("\r\n", "\n")
    related = reply.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    body_html = related.get_body(("html",)).get_content()
    assert "<b>Looks good</b>" in body_html and "<script" not in body_html and "alert(1)" not in body_html
    assert 'src="cid:chart@fabrikam.test"' in body_html
    [image] = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<chart@fabrikam.test>" and sha(image.get_content()) == sha(PNG)
    assert reply["In-Reply-To"] == original["Message-ID"]


def test_an_image_inserted_into_the_text_arrives_inline_under_the_cid_its_html_names(mail_stack, ivy, client):
    carol = person(mail_stack, "carol")
    picture = png(40, 30, (20, 160, 90))
    inserted = client.post(reverse("sending:compose"), {
        "mailbox": ivy.pk, "to": carol, "subject": "Floor plan", "action": "image",
        "image": SimpleUploadedFile("plan.png", picture, "image/png")})
    assert inserted.status_code == 200, inserted.content
    answer = inserted.json()
    sent = client.post(answer["url"], {
        "mailbox": ivy.pk, "to": carol, "subject": "Floor plan", "body": "ignored: the HTML is the message",
        "body_html": f'<p>The <b>plan</b>:</p><p><img src="{answer["image"]["src"]}" alt="plan.png"></p>',
        "action": "send"})
    assert sent.status_code == 302

    [arrived] = inbox(mail_stack, carol, expect=1)
    assert arrived.get_content_type() == "multipart/alternative"
    assert "The plan:" in arrived.get_body(("plain",)).get_content()
    related = arrived.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    [cid] = re.findall(r'<img src="cid:([^"]+)"', related.get_body(("html",)).get_content())
    [image] = [part for part in related.iter_parts() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{cid}>" and sha(image.get_content()) == sha(picture)
    assert image.get_content_disposition() == "inline" and not list(arrived.iter_attachments())


def forward_as_file(client: Any, email_row: Email, mailbox: Mailbox, to: str) -> Any:
    """Forward the message with "Also attach the original message as a file (.eml)" ticked."""
    return client.post(reverse("sending:forward", args=[email_row.pk]), {
        "mailbox": mailbox.pk, "to": to, "subject": f"Fwd: {email_row.subject}", "body": "See the original.\n",
        "forward_as_attachment": "on", "action": "send",
    }, follow=True)


def signed_original(sender: str, to: str) -> EmailMessage:
    original = EmailMessage()
    original["From"], original["To"], original["Subject"] = f"Carol <{sender}>", to, "Signed contract"
    original["Message-ID"] = f"<contract-{uuid.uuid4().hex[:8]}@fabrikam.test>"
    original["DKIM-Signature"] = "v=1; a=rsa-sha256; d=fabrikam.test; s=sel; bh=aGFzaA==; b=c2lnbmF0dXJl"
    original.set_content("Schöne Grüße, the contract is signed.\n", cte="8bit")
    original.add_attachment(PDF, "application", "pdf", filename="contract.pdf")
    return original


def test_forwarded_as_a_file_the_original_arrives_byte_for_byte_as_dovecot_keeps_it(mail_stack, ivy, client):
    carol, frank = person(mail_stack, "carol"), person(mail_stack, "frank")
    email_row = received(mail_stack, ivy, signed_original(carol, ivy.email_address), carol)
    [(original, _flags)] = raw_inbox(mail_stack, ivy.email_address)

    page = forward_as_file(client, email_row, ivy, frank)

    assert page.status_code == 200 and not [m for m in page.context["messages"] if m.level_tag == "warning"]
    [(arrived, _flags)] = raw_inbox(mail_stack, frank)
    assert original in arrived  # headers (the DKIM signature among them), 8-bit text and file untouched
    [eml] = [part for part in email.message_from_bytes(arrived, policy=email.policy.default).iter_attachments()
             if part.get_content_type() == "message/rfc822"]
    assert eml["Content-Transfer-Encoding"] == "8bit"
    assert eml.get_filename() == "Signed contract.eml"
    assert "\\Seen" not in raw_inbox(mail_stack, ivy.email_address)[0][1]  # forwarding did not mark it read


def test_when_the_server_no_longer_has_the_original_the_rebuilt_one_goes_and_the_writer_is_told(
    mail_stack, ivy, client,
):
    carol, frank = person(mail_stack, "carol"), person(mail_stack, "frank")
    email_row = received(mail_stack, ivy, signed_original(carol, ivy.email_address), carol)
    expunge_all(mail_stack, ivy.email_address)

    compose = client.get(reverse("sending:forward", args=[email_row.pk])).content.decode()
    assert "a copy rebuilt from what is stored here is attached instead, and you are told" in compose
    page = forward_as_file(client, email_row, ivy, frank)

    [warning] = [str(m) for m in page.context["messages"] if m.level_tag == "warning"]
    assert "could not be fetched from its mail server (The original is not on the mail server any more" in warning
    assert "rebuilt from the copy stored here" in warning
    [arrived] = inbox(mail_stack, frank, expect=1)
    [eml] = [part for part in arrived.iter_attachments() if part.get_content_type() == "message/rfc822"]
    rebuilt = eml.get_content()
    assert rebuilt["Message-ID"] == email_row.message_id.join("<>") and rebuilt["Subject"] == "Signed contract"
    assert files_of(rebuilt) == {"contract.pdf": sha(PDF)}
