"""My Emails through the Django test client: list, filters, search, pages, a message, read state,
attachments, inline images, time zones."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from tests.factories import make_mailbox

from inboxbridge.lib.content_store import ContentStore
from inboxbridge.mail.models import Attachment, Email, Placement
from inboxbridge.mail.queries import MailFilter, Position, email_page
from inboxbridge.mail.tests.helpers import READER_NAVIGATION, folder, message, store
from inboxbridge.mailboxes.models import Folder

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e6e1a40000000049454e44ae426082"
)
BASE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def bulk_emails(mailbox, count, *, start=BASE, step=timedelta(minutes=1), in_folder=None, label="Bulk", **fields):
    """Many emails quickly (straight into the tables, like the benchmark): list and paging tests."""
    emails = Email.objects.bulk_create([
        Email(mailbox=mailbox, message_key=f"bulk-{start.timestamp()}-{i}@x", subject=f"{label} {i:04d}",
              from_name="Bulk Sender", from_address="bulk@example.test", received_at=start + i * step, **fields)
        for i in range(count)
    ])
    target = in_folder or folder(mailbox)
    base_uid = (Placement.objects.filter(folder=target).order_by("-uid").values_list("uid", flat=True).first() or 0)
    Placement.objects.bulk_create(
        [Placement(email=e, folder=target, uid=base_uid + 1 + i) for i, e in enumerate(emails)]
    )
    return emails


def subjects(response) -> list[str]:
    return re.findall(r'<a href="/mail/\d+/\?back=[^"]*">([^<]*)</a>', response.content.decode())


def test_the_list_shows_the_newest_mail_first_and_unread_in_bold(signed_in, mailbox):
    store(mailbox, message("Older one", date=BASE), seen=True)
    store(mailbox, message("Newer one", date=BASE + timedelta(hours=1)))
    response = signed_in.get(reverse("mail:list"))
    assert response.status_code == 200
    assert subjects(response) == ["Newer one", "Older one"]
    html = response.content.decode()
    assert re.search(r'<tr class="unread" data-email-id="\d+">', html)
    assert "Unread (1)" in html


def test_folder_and_unread_filters(signed_in, mailbox):
    sent = folder(mailbox, "Sent Items")
    store(mailbox, message("In the inbox, read", date=BASE), seen=True)
    store(mailbox, message("In the inbox, unread", date=BASE + timedelta(minutes=1)))
    store(mailbox, message("Sent by me", date=BASE + timedelta(minutes=2)), in_folder=sent, seen=True)

    inbox_page = signed_in.get(reverse("mail:folder", args=[folder(mailbox).pk]))
    assert subjects(inbox_page) == ["In the inbox, unread", "In the inbox, read"]
    sent_page = signed_in.get(reverse("mail:folder", args=[sent.pk]))
    assert subjects(sent_page) == ["Sent by me"]
    unread = signed_in.get(reverse("mail:list") + "?unread=1")
    assert subjects(unread) == ["In the inbox, unread"]
    unread_sent = signed_in.get(reverse("mail:folder", args=[sent.pk]) + "?unread=1")
    assert subjects(unread_sent) == []
    assert "No unread mail." in unread_sent.content.decode()



def folder_counts(client) -> dict[str, str]:
    html = client.get(reverse("mail:list")).content.decode()
    start = html.index('<nav class="folders card"')
    nav = html[start:html.index("</nav>", start)]
    return dict(re.findall(r'>([^<>]+?)(?: <span class="unread-count" title="Unread">(\d+)</span>)?</a>', nav))


def test_each_folder_shows_its_unread_count_and_follows_the_readers_clicks(signed_in, mailbox, alice,
                                                                           django_capture_on_commit_callbacks):
    sent = folder(mailbox, "Sent Items")
    archive = Folder.objects.create(mailbox=mailbox, name="Archive", display_name="Archive", selected=True)
    for n in range(3):
        store(mailbox, message(f"Unread {n}", date=BASE + timedelta(minutes=n)))
    store(mailbox, message("Read one", date=BASE), seen=True)
    store(mailbox, message("Sent by me", date=BASE), in_folder=sent, seen=True)
    kept = store(mailbox, message("Kept", date=BASE, message_id="kept@x.test"), in_folder=archive)
    store(mailbox, message("Kept", date=BASE, message_id="kept@x.test"), in_folder=folder(mailbox))  # in both
    # Another user's unread mail counts for nobody else.
    other = make_mailbox(type(alice).objects.create_user("bob", "bob@example.test", "bob-password-1"))
    store(other, message("Not Alice's"))

    assert folder_counts(signed_in) == {"All mail": "", "Inbox": "4", "Archive": "1", "Sent Items": ""}
    # Reading the email that is in two folders lowers both counts at once, without a sync.
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.get(reverse("mail:detail", args=[kept.pk]), **READER_NAVIGATION)
    assert folder_counts(signed_in) == {"All mail": "", "Inbox": "3", "Archive": "", "Sent Items": ""}
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("mail:set-read", args=[kept.pk]), {"seen": "0"})
    assert folder_counts(signed_in) == {"All mail": "", "Inbox": "4", "Archive": "1", "Sent Items": ""}


def test_search_finds_subject_sender_and_body_words_by_prefix(signed_in, mailbox):
    store(mailbox, message("Quarterly numbers", text="See the spreadsheet.", date=BASE))
    store(mailbox, message("Lunch?", sender="Zoë Müller <zoe@catering.example>", text="Pizza at noon", date=BASE))
    store(mailbox, message("Plain", text="The invoice is overdue, said the accountant.", date=BASE))
    store(mailbox, message("Newsletter", text=None, html="<p>Spring <b>gardening</b> tips</p>", date=BASE))

    def found(q: str) -> list[str]:
        return subjects(signed_in.get(reverse("mail:list"), {"q": q}))

    assert found("quarterly") == ["Quarterly numbers"]
    assert found("QUART") == ["Quarterly numbers"]  # prefix, any case
    assert found("zoë") == ["Lunch?"]
    assert found("catering") == ["Lunch?"]  # the sender's address
    assert found("invoice accountant") == ["Plain"]  # every word must occur
    assert found("invoice pizza") == []
    assert found("gardening") == ["Newsletter"]  # an HTML-only body
    assert found("!!!") == []
    assert "No mail matches" in signed_in.get(reverse("mail:list"), {"q": "nothing-like-this"}).content.decode()


def test_search_follows_edits_and_deletions(mailbox):
    email = store(mailbox, message("Original subject", text="alpha", date=BASE))
    owner = mailbox.owner

    def found(q: str) -> list[int]:
        return [e.pk for e in email_page(owner, MailFilter(query=q)).emails]

    assert found("original") == [email.pk]
    Email.objects.filter(pk=email.pk).update(subject="Changed subject", body_text="beta")
    assert found("original") == [] and found("alpha") == []
    assert found("changed beta") == [email.pk]
    Email.objects.filter(pk=email.pk).update(is_seen=True)  # not an indexed column
    assert found("changed") == [email.pk]
    Email.objects.filter(pk=email.pk).delete()
    assert found("changed") == []


def test_keyset_pages_walk_forward_and_back_without_gaps(signed_in, mailbox, alice):
    bulk_emails(mailbox, 120)
    # Same timestamp on several rows: the id breaks the tie.
    bulk_emails(mailbox, 5, start=BASE + timedelta(minutes=60), step=timedelta(0), label="Tied")
    seen: list[str] = []
    url = reverse("mail:list")
    pages = []
    while url:
        response = signed_in.get(url)
        pages.append(subjects(response))
        seen += pages[-1]
        older = re.search(r'<a href="([^"]*)" rel="next">', response.content.decode())
        url = reverse("mail:list") + older[1].replace("&amp;", "&") if older else ""
    assert [len(p) for p in pages] == [50, 50, 25]
    assert len(seen) == len(set(seen)) == 125
    expected = list(Email.objects.order_by("-received_at", "-id").values_list("subject", flat=True))
    assert seen == expected

    # "Newer" from the second page leads back to the first one.
    first = signed_in.get(reverse("mail:list")).content.decode()
    second = signed_in.get(reverse("mail:list") + re.search(r'<a href="([^"]*)" rel="next">', first)[1])
    newer = re.search(r'<a href="([^"]*)" rel="prev">', second.content.decode())
    assert subjects(signed_in.get(reverse("mail:list") + newer[1].replace("&amp;", "&"))) == pages[0]


def test_mail_without_a_date_comes_last_and_pages_across(mailbox, alice):
    dated = bulk_emails(mailbox, 3)
    undated = Email.objects.bulk_create([
        Email(mailbox=mailbox, message_key=f"undated-{i}", subject=f"Undated {i}") for i in range(3)
    ])
    first = email_page(alice, MailFilter(), size=4)
    assert [e.pk for e in first.emails] == [e.pk for e in reversed(dated)] + [undated[-1].pk]
    second = email_page(alice, MailFilter(), before=first.older, size=4)
    assert [e.pk for e in second.emails] == [undated[1].pk, undated[0].pk]
    assert second.older is None
    back = email_page(alice, MailFilter(), after=second.newer, size=2)
    assert [e.pk for e in back.emails] == [dated[0].pk, undated[2].pk]


def test_positions_survive_the_url_and_reject_garbage():
    position = Position(datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=UTC), 42)
    assert Position.decode(position.encode()) == position
    assert Position.decode(Position(None, 7).encode()) == Position(None, 7)
    for junk in ["", "abc", "1_", "_1", "1_2_3", "9" * 40 + "_1", "x_-1", "-99999999999999999_1", "x_" + "9" * 19]:
        assert Position.decode(junk) is None


def test_opening_an_unread_email_marks_it_read_and_queues_the_push(signed_in, mailbox,
                                                                  django_capture_on_commit_callbacks):
    email = store(mailbox, message("Read me"))
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.get(reverse("mail:detail", args=[email.pk]), **READER_NAVIGATION)
    assert response.status_code == 200
    email.refresh_from_db()
    assert email.is_seen and email.flags_pending
    queued = DBTaskResult.objects.filter(task_path="inboxbridge.mail.tasks.push_email_flags")
    assert [r.args_kwargs["args"] for r in queued] == [[email.pk]]


def test_read_and_unread_toggles(signed_in, mailbox, django_capture_on_commit_callbacks):
    email = store(mailbox, message("Toggle me"), seen=True)
    back = reverse("mail:list") + "?unread=1"
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("mail:set-read", args=[email.pk]), {"seen": "0", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    email.refresh_from_db()
    assert not email.is_seen and email.flags_pending
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("mail:set-read", args=[email.pk]), {"seen": "1", "next": "https://evil.example/"})
    email.refresh_from_db()
    assert email.is_seen
    assert DBTaskResult.objects.filter(task_path="inboxbridge.mail.tasks.push_email_flags").count() == 2
    # Unchanged state: nothing to push.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in.post(reverse("mail:set-read", args=[email.pk]), {"seen": "1"})
    assert response["Location"] == reverse("mail:list") and callbacks == []
    assert signed_in.post(reverse("mail:set-read", args=[email.pk]), {"seen": "maybe"}).status_code == 400
    assert signed_in.get(reverse("mail:set-read", args=[email.pk])).status_code == 405


def test_flag_toggles_and_the_flagged_filter(signed_in, mailbox, django_capture_on_commit_callbacks):
    flagged = store(mailbox, message("Important one", date=BASE), seen=True)
    store(mailbox, message("Ordinary one", date=BASE + timedelta(minutes=1)), seen=True)
    back = reverse("mail:list") + "?flagged=1"
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("mail:set-flag", args=[flagged.pk]), {"flagged": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    flagged.refresh_from_db()
    assert flagged.is_flagged and flagged.flags_pending and flagged.is_seen
    queued = DBTaskResult.objects.filter(task_path="inboxbridge.mail.tasks.push_email_flags")
    assert [r.args_kwargs["args"] for r in queued] == [[flagged.pk]]

    html = signed_in.get(back).content.decode()
    assert "Important one" in html and "Ordinary one" not in html
    assert 'aria-label="Remove flag"' in html
    page = signed_in.get(reverse("mail:detail", args=[flagged.pk])).content.decode()
    assert ">Remove flag</button>" in page

    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("mail:set-flag", args=[flagged.pk]), {"flagged": "0"})
    flagged.refresh_from_db()
    assert not flagged.is_flagged
    assert "No flagged mail." in signed_in.get(back).content.decode()
    # Unchanged state: nothing to push; a wrong value is refused; GET is not a way to change it.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        signed_in.post(reverse("mail:set-flag", args=[flagged.pk]), {"flagged": "0"})
    assert callbacks == []
    assert signed_in.post(reverse("mail:set-flag", args=[flagged.pk]), {"flagged": "yes"}).status_code == 400
    assert signed_in.get(reverse("mail:set-flag", args=[flagged.pk])).status_code == 405


def test_a_message_page_lists_every_header_escaped(signed_in, mailbox):
    email = store(mailbox, message("Headers", sender="<b>Bold</b> <bold@elsewhere.test>", message_id="hdr-1@x.test"))
    html = signed_in.get(reverse("mail:detail", args=[email.pk])).content.decode()
    start = html.index('<details class="all-headers">')
    block = html[start:html.index("</details>", start)]
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>(.*?)</td>', block))
    assert rows["Message-ID"] == "&lt;hdr-1@x.test&gt;"
    assert rows["Subject"] == "Headers"
    assert "&lt;b&gt;Bold&lt;/b&gt;" in rows["From"] and "<b>" not in block


def test_a_message_page_says_what_was_wrong_with_a_broken_message(signed_in, mailbox):
    raw = (b"From: a@elsewhere.test\r\nSubject: Broken\r\nMessage-ID: <broken-1@x.test>\r\n"
           b"Content-Type: multipart/mixed\r\n\r\nno boundary anywhere\r\n")
    email = store(mailbox, raw)
    html = signed_in.get(reverse("mail:detail", args=[email.pk])).content.decode()
    assert "Problems found while reading this message: &#x27;multipart/mixed&#x27; without boundary parameter" in html
    assert "no boundary anywhere" in html  # the body is still shown, read as text


def test_a_message_page_shows_headers_text_and_attachments(signed_in, mailbox):
    email = store(mailbox, message(
        "Report", sender="Bob Sender <bob@elsewhere.test>", to="Alice <alice@example.test>",
        text="See https://example.org/report <b>attached</b>.",
        attachments=[("Résumé 2025.pdf", "application/pdf", b"%PDF-1.4 data"),
                     ("page.html", "text/html", b"<script>alert(1)</script>")],
    ))
    html = signed_in.get(reverse("mail:detail", args=[email.pk])).content.decode()
    assert "Bob Sender" in html and "&lt;bob@elsewhere.test&gt;" in html
    assert "Alice" in html and "&lt;alice@example.test&gt;" in html
    assert '<a href="https://example.org/report"' in html  # linked
    assert "&lt;b&gt;attached&lt;/b&gt;" in html  # escaped, never markup
    assert "Résumé 2025.pdf" in html and "application/pdf" in html and "13\xa0bytes" in html
    assert "<iframe" not in html  # no HTML part: plain text in the page


def test_attachments_download_with_safe_headers(signed_in, mailbox):
    data = bytes(range(256)) * 10
    email = store(mailbox, message("Files", attachments=[
        ("Résumé \"final\".pdf", "application/pdf", data), ("page.html", "text/html", b"<script>x</script>"),
        ("drawing.svg", "image/svg+xml", b"<svg onload='x()'/>"),
    ]))
    pdf, page, svg = Attachment.objects.filter(email=email).order_by("position")
    response = signed_in.get(reverse("mail:attachment", args=[pdf.pk]))
    assert response.status_code == 200 and response.getvalue() == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Resume _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    for part in (page, svg):
        response = signed_in.get(reverse("mail:attachment", args=[part.pk]))
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")


def test_attachments_stream_from_files_and_a_lost_file_is_explained(signed_in, mailbox, settings, tmp_path):
    settings.ATTACHMENT_STORE, settings.ATTACHMENTS_DIR = "files", tmp_path
    data = os.urandom(3 * 1024 * 1024)
    email = store(mailbox, message("Big file", attachments=[("scan.pdf", "application/pdf", data)]))
    part = Attachment.objects.select_related("blob").get(email=email)
    assert part.blob is not None and part.blob.data is None  # the content is a file, not a row

    response = signed_in.get(reverse("mail:attachment", args=[part.pk]))
    assert response.streaming and response.getvalue() == data
    assert response["Content-Length"] == str(len(data))

    ContentStore(tmp_path).path(part.blob.sha256).unlink()  # restored a backup without the files
    missing = signed_in.get(reverse("mail:attachment", args=[part.pk]))
    assert missing.status_code == 404 and "missing on the server" in missing.content.decode()


def test_html_body_is_sanitised_framed_and_blocks_remote_images(signed_in, mailbox):
    email = store(mailbox, message("Styled", text=None, html=(
        '<p onclick="steal()">Hi <img src="https://tracker.example/pixel.gif" alt="pixel">'
        '<img src="cid:logo@example"><script>steal()</script></p>'
    ), inline=[("logo@example", "image/png", PNG)]))
    page = signed_in.get(reverse("mail:detail", args=[email.pk])).content.decode()
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in page
    assert "Show images" in page
    assert "Attachments" not in page  # the logo is shown inline, not listed

    body = signed_in.get(reverse("mail:body", args=[email.pk]))
    assert body.status_code == 200
    csp = body["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "img-src 'self' data:;" in csp
    assert body["X-Frame-Options"] == "SAMEORIGIN"
    html = body.content.decode()
    assert "steal" not in html and "tracker.example" not in html
    logo = Attachment.objects.get(email=email, content_id="logo@example")
    inline_url = reverse("mail:inline", args=[email.pk, logo.pk])
    assert f'<img src="{inline_url}">' in html

    allowed = signed_in.get(reverse("mail:body", args=[email.pk]) + "?images=1")
    assert 'src="https://tracker.example/pixel.gif"' in allowed.content.decode()
    assert "img-src 'self' data: https: http:" in allowed["Content-Security-Policy"]

    image = signed_in.get(inline_url)
    assert image.status_code == 200 and image.getvalue() == PNG
    assert image["Content-Type"] == "image/png" and image["Content-Disposition"].startswith("inline;")
    # Content-IDs are matched ignoring case, as mail clients do.
    email.body_html = email.body_html.replace("cid:logo@example", "cid:LOGO@Example")
    email.save(update_fields=["body_html"])
    assert inline_url in signed_in.get(reverse("mail:body", args=[email.pk])).content.decode()
    # A part of another email, or of none, is not served under this email.
    assert signed_in.get(reverse("mail:inline", args=[email.pk + 1, logo.pk])).status_code == 404
    assert signed_in.get(reverse("mail:inline", args=[email.pk, logo.pk + 100])).status_code == 404


def test_a_thread_page_shows_every_message_in_order(signed_in, mailbox):
    first = store(mailbox, message("Plans", message_id="a@x", date=BASE))
    second = store(mailbox, message("Re: Plans", message_id="b@x", in_reply_to="a@x", date=BASE + timedelta(hours=1)))
    third = store(mailbox, message("Re: Plans", message_id="c@x", in_reply_to="b@x", references="<a@x> <b@x>",
                                   date=BASE + timedelta(hours=2)))
    assert first.thread_id == second.thread_id == third.thread_id is not None
    listing = signed_in.get(reverse("mail:list")).content.decode()
    assert '<span class="badge" title="Messages in this conversation">3</span>' in listing
    detail = signed_in.get(reverse("mail:detail", args=[second.pk])).content.decode()
    assert "View the conversation (3 messages)" in detail
    html = signed_in.get(reverse("mail:thread", args=[first.thread_id]), **READER_NAVIGATION).content.decode()
    ids = [int(i) for i in re.findall(r'<article class="card message" id="m(\d+)"', html)]
    assert ids == [first.pk, second.pk, third.pk]
    assert not Email.objects.filter(thread_id=first.thread_id, is_seen=False).exists()


def test_dates_are_shown_in_the_browser_time_zone(signed_in, mailbox):
    email = store(mailbox, message("Zoned", date=datetime(2024, 7, 1, 12, 0, tzinfo=UTC)))
    url = reverse("mail:detail", args=[email.pk])
    assert "Mon 1 Jul 2024, 12:00 UTC" in signed_in.get(url).content.decode()
    signed_in.cookies["inboxbridge_tz"] = "Asia/Tokyo"
    html = signed_in.get(url).content.decode()
    assert "Mon 1 Jul 2024, 21:00 JST" in html and 'data-tz="Asia/Tokyo"' in html
    for bad in ["Not/AZone", "../../etc/passwd", "/etc/localtime", "x" * 100]:
        signed_in.cookies["inboxbridge_tz"] = bad
        assert "12:00 UTC" in signed_in.get(url).content.decode()


def test_pages_need_a_signed_in_user(client, mailbox):
    email = store(mailbox, message("Private"))
    for url in (reverse("mail:list"), reverse("mail:detail", args=[email.pk]), reverse("mail:body", args=[email.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
