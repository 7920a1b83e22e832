"""My Emails in a real browser (Chromium through Playwright) against the live server."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from tests.browser import sign_in as sign_in_with_password
from tests.factories import make_mailbox

from inboxbridge.mail.models import Email
from inboxbridge.mail.tests.helpers import folder, message, store
from inboxbridge.mailboxes.models import Folder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "reader-password-1"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e6e1a40000000049454e44ae426082"
)
BASE = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
REMOTE_IMAGE = "http://images.remote.example/newsletter/banner.png"


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user("reader", "reader@example.test", PASSWORD)


@pytest.fixture
def page(browser_context):
    return browser_context.new_page()


def sign_in(page, live_server, username: str = "reader") -> None:
    sign_in_with_password(page, live_server, username, PASSWORD)


def shows(page, subjects: list[str]) -> None:
    """The list shows these subjects, in this order (waits for a page a click is still loading)."""
    expect(page.locator("#email-list td.summary > a")).to_have_text(subjects)


def first_listed(page, subject: str) -> None:
    expect(page.locator("#email-list td.summary > a").first).to_have_text(subject)


def test_list_filters_and_search(page, live_server, reader):
    mailbox = make_mailbox(reader)
    sent = folder(mailbox, "Sent Items")
    store(mailbox, message("Budget 2026", text="Draft numbers for the budget", date=BASE), seen=True)
    store(mailbox, message("Team lunch", sender="Dana Cook <dana@kitchen.example>", text="Tacos on Friday",
                           date=BASE + timedelta(hours=1)))
    store(mailbox, message("Re: Budget 2026", text="Approved.", date=BASE + timedelta(hours=2)),
          in_folder=sent, seen=True)

    sign_in(page, live_server)
    shows(page, ["Re: Budget 2026", "Team lunch", "Budget 2026"])
    assert page.locator("#email-list tr.unread td.summary > a").all_inner_texts() == ["Team lunch"]
    folders = page.get_by_role("navigation", name="Folders")
    assert folders.locator(".unread-count").all_inner_texts() == ["1"]  # the inbox's; Sent Items has none
    assert folders.get_by_role("link", name="Inbox").inner_text() == "Inbox 1"

    page.get_by_role("link", name=re.compile(r"^Unread \(1\)$")).click()
    page.wait_for_url(re.compile(r"unread=1"))
    shows(page, ["Team lunch"])
    page.get_by_role("link", name="All", exact=True).click()

    page.get_by_role("navigation", name="Folders").get_by_role("link", name="Sent Items").click()
    page.wait_for_url(f"{live_server.url}/mail/folders/{sent.pk}/")
    shows(page, ["Re: Budget 2026"])
    page.get_by_role("navigation", name="Folders").get_by_role("link", name="Inbox").click()
    shows(page, ["Team lunch", "Budget 2026"])

    page.get_by_role("link", name="All mail").click()
    search = page.get_by_role("searchbox", name="Search mail")
    search.fill("budg")
    search.press("Enter")
    page.wait_for_url(re.compile(r"q=budg"))
    shows(page, ["Re: Budget 2026", "Budget 2026"])
    search = page.get_by_role("searchbox", name="Search mail")
    search.fill("kitchen")  # the sender's address
    search.press("Enter")
    page.wait_for_url(re.compile(r"q=kitchen"))
    shows(page, ["Team lunch"])
    search = page.get_by_role("searchbox", name="Search mail")
    search.fill("tacos")  # the body
    search.press("Enter")
    page.wait_for_url(re.compile(r"q=tacos"))
    shows(page, ["Team lunch"])


def test_paging_through_older_and_newer_mail(page, live_server, reader):
    mailbox = make_mailbox(reader)
    Email.objects.bulk_create([
        Email(mailbox=mailbox, message_key=f"m{i}", subject=f"Message {i:03d}", from_address="x@example.test",
              received_at=BASE + timedelta(minutes=i), is_seen=True)
        for i in range(120)
    ])
    sign_in(page, live_server)
    shows(page, [f"Message {i:03d}" for i in range(119, 69, -1)])
    page.get_by_role("link", name="Older →").click()
    first_listed(page, "Message 069")
    page.get_by_role("link", name="Older →").click()
    shows(page, [f"Message {i:03d}" for i in range(19, -1, -1)])
    assert page.get_by_role("link", name="Older →").count() == 0
    page.get_by_role("link", name="← Newer").click()
    first_listed(page, "Message 069")


def test_a_thread_with_three_messages(page, live_server, reader):
    mailbox = make_mailbox(reader)
    store(mailbox, message("Offsite agenda", message_id="agenda@x", text="First: the agenda.", date=BASE))
    store(mailbox, message("Re: Offsite agenda", message_id="reply1@x", in_reply_to="agenda@x",
                           sender="Eve <eve@example.test>", text="Second: add a break.",
                           date=BASE + timedelta(hours=1)))
    store(mailbox, message("Re: Offsite agenda", message_id="reply2@x", in_reply_to="reply1@x",
                           references="<agenda@x> <reply1@x>", text="Third: agreed.", date=BASE + timedelta(hours=2)))

    sign_in(page, live_server)
    first_row = page.locator("#email-list tr").first
    assert first_row.locator(".badge").inner_text() == "3"
    first_row.locator("td.summary > a").click()
    page.get_by_role("link", name="View the conversation (3 messages)").click()
    page.wait_for_url(re.compile(r"/mail/threads/\d+/"))
    messages = page.locator("article.message")
    assert messages.count() == 3
    assert [m.strip() for m in page.locator("article.message pre.mail-body").all_inner_texts()] == [
        "First: the agenda.", "Second: add a break.", "Third: agreed."
    ]
    assert "Eve" in messages.nth(1).locator(".from").inner_text()
    assert not Email.objects.filter(mailbox=mailbox, is_seen=False).exists()


def test_remote_images_load_only_after_show_images(page, live_server, reader):
    mailbox = make_mailbox(reader)
    email = store(mailbox, message(
        "Spring newsletter", text=None, date=BASE,
        html=(f'<h1>Spring</h1><img alt="banner" src="{REMOTE_IMAGE}">'
              '<img alt="logo" src="cid:logo@newsletter">'
              "<script>parent.document.title = 'pwned'</script>"),
        inline=[("logo@newsletter", "image/png", PNG)],
    ))
    remote_requests: list[str] = []

    def answer_remote(route):
        remote_requests.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=PNG)

    page.context.route("http://images.remote.example/**", answer_remote)
    sign_in(page, live_server)
    page.get_by_role("link", name="Spring newsletter").click()
    page.wait_for_url(re.compile(rf"/mail/{email.pk}/"))
    frame = page.frame_locator("iframe.html-body")
    frame.get_by_role("heading", name="Spring").wait_for()
    banner = frame.get_by_role("img", name="banner")
    assert banner.get_attribute("src") is None
    # The inline logo comes from the stored part, through the owner-checked route.
    logo = frame.get_by_role("img", name="logo")
    part = email.attachments.get(content_id="logo@newsletter")
    assert logo.get_attribute("src") == f"/mail/{email.pk}/parts/{part.pk}/"
    page.wait_for_function(
        "() => { const img = document.querySelector('iframe.html-body').contentDocument"
        ".querySelector('img[alt=logo]'); return img && img.complete && img.naturalWidth > 0; }"
    )
    page.wait_for_timeout(300)
    assert remote_requests == []
    assert page.title() != "pwned"

    page.get_by_role("link", name="Show images").click()
    page.wait_for_url(re.compile(rf"images={email.pk}"))
    frame = page.frame_locator("iframe.html-body")
    assert frame.get_by_role("img", name="banner").get_attribute("src") == REMOTE_IMAGE
    page.wait_for_function(
        "() => { const img = document.querySelector('iframe.html-body').contentDocument"
        ".querySelector('img[alt=banner]'); return img && img.complete && img.naturalWidth > 0; }"
    )
    assert remote_requests == [REMOTE_IMAGE]
    assert page.title() != "pwned"


def test_attachment_download_gives_the_original_bytes(page, live_server, reader):
    mailbox = make_mailbox(reader)
    data = bytes(range(256)) * 257
    store(mailbox, message("Signed contract", attachments=[("Contract \u2013 final.pdf", "application/pdf", data)]))
    sign_in(page, live_server)
    page.get_by_role("link", name="Signed contract").click()
    item = page.locator("ul.attachments li")
    assert "application/pdf" in item.inner_text() and "64.2\xa0KB" in item.inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Contract \u2013 final.pdf").click()
    download = info.value
    assert download.suggested_filename == "Contract \u2013 final.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read() == data


def test_read_state_toggles_in_the_list(page, live_server, reader):
    mailbox = make_mailbox(reader)
    email = store(mailbox, message("Toggle me", date=BASE))
    sign_in(page, live_server)
    row = page.locator(f"#email-list tr[data-email-id='{email.pk}']")
    assert "unread" in row.get_attribute("class")
    row.get_by_role("button", name="Mark as read").click()
    row = page.locator(f"#email-list tr[data-email-id='{email.pk}']")
    row.get_by_role("button", name="Mark as unread").wait_for()
    assert "unread" not in (row.get_attribute("class") or "")
    email.refresh_from_db()
    assert email.is_seen and email.flags_pending
    row.get_by_role("button", name="Mark as unread").click()
    page.locator(f"#email-list tr.unread[data-email-id='{email.pk}']").wait_for()
    email.refresh_from_db()
    assert not email.is_seen


def test_flag_toggles_in_the_list_and_on_the_message(page, live_server, reader):
    mailbox = make_mailbox(reader)
    email = store(mailbox, message("Flag me", date=BASE), seen=True)
    sign_in(page, live_server)
    row = page.locator(f"#email-list tr[data-email-id='{email.pk}']")
    row.get_by_role("button", name="Flag", exact=True).click()
    page.locator(f"#email-list tr[data-email-id='{email.pk}']").get_by_role("button", name="Remove flag").wait_for()
    email.refresh_from_db()
    assert email.is_flagged and email.flags_pending
    page.get_by_role("link", name="Flagged").click()
    page.get_by_role("link", name="Flag me").click()
    page.get_by_role("button", name="Remove flag").click()
    page.get_by_role("button", name="Flag", exact=True).wait_for()
    email.refresh_from_db()
    assert not email.is_flagged


def test_dates_follow_the_browser_time_zone(browser, live_server, reader):
    mailbox = make_mailbox(reader)
    store(mailbox, message("Zoned", date=datetime(2024, 7, 1, 12, 0, tzinfo=UTC)), seen=True)
    context = browser.new_context(timezone_id="Asia/Tokyo")
    try:
        page = context.new_page()
        sign_in(page, live_server)
        # mail.js stores the browser's zone in a cookie and re-renders the page once.
        page.wait_for_function("document.querySelector('.mail').dataset.tz === 'Asia/Tokyo'")
        assert page.locator("#email-list time").get_attribute("title") == "Mon 1 Jul 2024, 21:00 JST"
        assert {c["name"]: c["value"] for c in context.cookies()}["inboxbridge_tz"] == "Asia/Tokyo"
        page.get_by_role("link", name="Zoned").click()
        assert page.locator("article.message dd.date").inner_text() == "Mon 1 Jul 2024, 21:00 JST"
    finally:
        context.close()


def test_opening_a_message_marks_it_read_and_nothing_its_html_requests(page, live_server, reader):
    mailbox = make_mailbox(reader)
    by_cid = store(mailbox, message("Payroll", date=BASE))
    by_image_set = store(mailbox, message("Board minutes", date=BASE))
    by_remote_image = store(mailbox, message("Offer letter", date=BASE))
    # A message whose every image and background points at another message (or its thread) of the
    # same reader: a Content-ID that walks up the path, CSS image-set()s, and, once the reader
    # allows remote images, a plain absolute URL of this very site.
    hostile = store(mailbox, message("You won", text=None, date=BASE + timedelta(hours=1), html=(
        f'<p>Congratulations</p><img alt="trap" src="cid:../../{by_cid.pk}/">'
        f'<div style="background-image:image-set(&quot;/mail/{by_image_set.pk}/&quot; 1x);height:9px">.</div>'
        f'<style>p{{background-image:image-set("/mail/threads/{by_image_set.thread_id}/" 1x)}}</style>'
        f'<img alt="remote" src="{live_server.url}/mail/{by_remote_image.pk}/">'
    ), inline=[(f"../../{by_cid.pk}/", "image/png", PNG)]))
    sign_in(page, live_server)
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.get_by_role("link", name="You won").click()
    page.get_by_role("button", name="Mark as unread").wait_for()
    page.wait_for_function(
        "() => { const img = document.querySelector('iframe.html-body').contentDocument"
        ".querySelector('img[alt=trap]'); return img && img.complete; }"
    )
    # The trap is shown as the part it names, from the owner-checked route of parts.
    trap_width = page.frame_locator("iframe.html-body").get_by_role("img", name="trap").evaluate("i => i.naturalWidth")
    page.get_by_role("link", name="Show images").click()
    page.wait_for_url(re.compile(rf"images={hostile.pk}"))
    page.wait_for_function(
        "() => { const img = document.querySelector('iframe.html-body').contentDocument"
        ".querySelector('img[alt=remote]'); return img && img.complete; }"
    )
    page.wait_for_load_state("networkidle")

    # Opening it was a top-level navigation: the GET marked it read, no script had to.
    assert Email.objects.get(pk=hostile.pk).is_seen
    assert not [r for r in requests if r.method == "POST"]
    # The browser did ask for another message as an image; that marked nothing.
    remote = [r for r in requests if r.url == f"{live_server.url}/mail/{by_remote_image.pk}/"]
    assert remote and {r.all_headers().get("sec-fetch-dest") for r in remote} == {"image"}
    assert list(Email.objects.filter(is_seen=False).order_by("pk").values_list("subject", flat=True)) == [
        "Payroll", "Board minutes", "Offer letter",
    ]
    assert not Email.objects.filter(flags_pending=True).exclude(pk=hostile.pk).exists()
    assert trap_width == 1


def test_a_link_from_another_site_opens_the_message_and_the_page_marks_it_read(page, live_server, reader):
    """The server leaves a cross-site GET alone (another site may send the reader anywhere, even
    into a hidden frame); the page, once shown to the reader, posts its own "Mark as read"."""
    mailbox = make_mailbox(reader)
    email = store(mailbox, message("Linked from a chat", date=BASE))
    elsewhere = "http://chat.elsewhere.example/"
    link = f'<a href="{live_server.url}/mail/{email.pk}/">the message</a>'
    page.context.route(elsewhere, lambda route: route.fulfill(status=200, content_type="text/html", body=link))
    sign_in(page, live_server)
    requests = []
    page.on("request", lambda request: requests.append(request))
    page.goto(elsewhere)
    page.get_by_role("link", name="the message").click()
    # mail.js posts the page's "Mark as read" form, then offers "Mark as unread".
    page.get_by_role("button", name="Mark as unread").wait_for()
    assert page.get_by_role("button", name="Mark as read").is_hidden()
    # Chromium sent Sec-Fetch-Site: cross-site, so the GET left it unread and the page had to post.
    assert [r.url for r in requests if r.method == "POST"] == [f"{live_server.url}/mail/{email.pk}/read-state/"]
    email.refresh_from_db()
    assert email.is_seen and email.flags_pending


@pytest.mark.mailserver
def test_read_state_reaches_the_server_over_imap(page, live_server, reader, connect_office365_mailbox,
                                                 mail_settings):
    engine = pytest.importorskip("inboxbridge.sync.engine", reason="the sync engine is not available yet")
    mailbox = connect_office365_mailbox(email=f"reader-{uuid.uuid4().hex[:6]}@{mail_settings.domain}", owner=reader)
    Folder.objects.update_or_create(mailbox=mailbox, name="INBOX",
                                    defaults={"display_name": "Inbox", "selected": True, "delimiter": "/"})
    note = EmailMessage()
    note["From"] = "Frank <frank@elsewhere.test>"
    note["To"] = mailbox.email_address
    note["Subject"] = "Read me on the server"
    note["Message-ID"] = f"<{uuid.uuid4().hex}@elsewhere.test>"
    note.set_content("Flags travel both ways.")
    mail_settings.deliver(note, to=mailbox.email_address)
    result = engine.sync_mailbox(mailbox.pk)
    assert not result.error, result.error

    def server_seen() -> bool:
        imap = mail_settings.imap(mailbox.email_address)
        try:
            imap.select("INBOX", readonly=True)
            _, data = imap.fetch("1", "(FLAGS)")
            return b"\\Seen" in data[0]
        finally:
            imap.logout()

    assert not server_seen()
    sign_in(page, live_server)
    page.get_by_role("link", name="Read me on the server").click()  # opening marks it read
    page.get_by_role("button", name="Mark as unread").wait_for()
    call_command("db_worker", "--batch", verbosity=0)  # the queued push_email_flags
    assert server_seen()
    email = Email.objects.get(mailbox=mailbox, subject="Read me on the server")
    assert email.is_seen and not email.flags_pending

    page.get_by_role("button", name="Mark as unread").click()
    page.locator(f"#email-list tr.unread[data-email-id='{email.pk}']").wait_for()
    call_command("db_worker", "--batch", verbosity=0)
    assert not server_seen()
    # And a sync afterwards keeps the state the user chose.
    assert not engine.sync_mailbox(mailbox.pk).error
    email.refresh_from_db()
    assert not email.is_seen
