"""A message cannot change other mail: its HTML is shown on this origin, so its images and styles
can request any URL of the site with the reader's cookies. No URL it can produce reaches another
page, and no GET but the reader's own navigation marks mail read."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import resolve, reverse
from django_tasks_db.models import DBTaskResult

from inboxbridge.mail.models import Email
from inboxbridge.mail.tests.helpers import READER_NAVIGATION, message, store

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e6e1a40000000049454e44ae426082"
)
PUSH_TASK = "inboxbridge.mail.tasks.push_email_flags"
# Requests a message's HTML (or another site) can make a browser send for a mail page.
NOT_THE_READER = {
    "an image": {"HTTP_SEC_FETCH_DEST": "image", "HTTP_SEC_FETCH_MODE": "no-cors",
                 "HTTP_SEC_FETCH_SITE": "same-origin"},
    "a style sheet": {"HTTP_SEC_FETCH_DEST": "style", "HTTP_SEC_FETCH_MODE": "no-cors",
                      "HTTP_SEC_FETCH_SITE": "same-origin"},
    "a fetch": {"HTTP_SEC_FETCH_DEST": "empty", "HTTP_SEC_FETCH_MODE": "cors", "HTTP_SEC_FETCH_SITE": "same-origin"},
    "a frame": {"HTTP_SEC_FETCH_DEST": "iframe", "HTTP_SEC_FETCH_MODE": "navigate",
                "HTTP_SEC_FETCH_SITE": "same-origin"},
    "another site's link": {**READER_NAVIGATION, "HTTP_SEC_FETCH_SITE": "cross-site"},
    "a sibling subdomain's link": {**READER_NAVIGATION, "HTTP_SEC_FETCH_SITE": "same-site"},
    "a prefetch": {**READER_NAVIGATION, "HTTP_SEC_PURPOSE": "prefetch"},
    "a prerender": {**READER_NAVIGATION, "HTTP_SEC_PURPOSE": "prefetch;prerender"},
    "a browser without Fetch Metadata": {},
}
THE_READER = {
    "a link of this site": READER_NAVIGATION,
    "the address bar": {**READER_NAVIGATION, "HTTP_SEC_FETCH_SITE": "none"},
}


class _Urls(HTMLParser):
    """Every URL-ish value of the message in a body frame (inside its <body>): attribute values, and
    strings and url()s of CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_body = self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_body = self._in_body or tag == "body"
        self._in_style = self._in_body and tag == "style"
        if not self._in_body:
            return
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.css(value)
            elif name in {"src", "href", "background", "srcset", "action", "poster"}:
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.css(data)

    def css(self, css: str) -> None:
        self.found += re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
        self.found += [a or b for a, b in re.findall(r"\"([^\"]*)\"|'([^']*)'", css)]  # image-set("...")


def urls_in(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    return parser.found


def unread_and_nothing_pushed(email: Email) -> bool:
    email.refresh_from_db()
    return not email.is_seen and not email.flags_pending and not DBTaskResult.objects.filter(task_path=PUSH_TASK)


def test_a_content_id_never_becomes_a_path_to_another_page(signed_in, mailbox, django_capture_on_commit_callbacks):
    victim = store(mailbox, message("Quarterly numbers"))
    traps = [f"../../{victim.pk}/", f"..%2F..%2F{victim.pk}%2F", f"../../{victim.pk}/read-state/",
             f"%2e%2e/%2e%2e/{victim.pk}/", f"/mail/{victim.pk}/", f"..\\..\\{victim.pk}\\"]
    hostile = store(mailbox, message(
        "Hostile", text=None,
        html="".join(f'<img alt="trap {n}" src="cid:{cid}"><div style="background:url(cid:{cid})">x</div>'
                     for n, cid in enumerate(traps)),
        inline=[(cid, "image/png", PNG) for cid in traps],
    ))
    body_url = reverse("mail:body", args=[hostile.pk])
    body = signed_in.get(body_url)
    found = [urljoin(f"http://testserver{body_url}", url) for url in urls_in(body.content.decode())]

    # Every trap is shown (as the part it names) and nothing in the body leads anywhere else.
    assert len(found) >= len(traps)
    views = {resolve(urlsplit(url).path).view_name for url in found}
    assert views == {"mail:inline"}, found
    with django_capture_on_commit_callbacks(execute=True):
        for url in found:
            image = signed_in.get(urlsplit(url).path, **NOT_THE_READER["an image"])
            assert image.status_code == 200 and image.getvalue() == PNG
    assert unread_and_nothing_pushed(victim)


@pytest.mark.parametrize("who", NOT_THE_READER)
def test_a_request_that_is_not_the_reader_opening_the_message_marks_nothing(
    who, signed_in, mailbox, django_capture_on_commit_callbacks
):
    email = store(mailbox, message("Unread still"))
    reply = store(mailbox, message("Re: Unread still", in_reply_to=email.message_id))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        detail = signed_in.get(reverse("mail:detail", args=[email.pk]), **NOT_THE_READER[who])
        thread = signed_in.get(reverse("mail:thread", args=[email.thread_id]), **NOT_THE_READER[who])
    assert detail.status_code == thread.status_code == 200
    assert callbacks == []
    assert unread_and_nothing_pushed(email) and unread_and_nothing_pushed(reply)
    # The page still offers to mark it read (mail.js does it once the page is shown to the reader).
    assert ">Mark as read</button>" in detail.content.decode()
    assert thread.content.decode().count(">Mark as read</button>") == 2


@pytest.mark.parametrize("who", THE_READER)
def test_the_reader_opening_a_message_or_a_thread_marks_it_read(
    who, signed_in, mailbox, django_capture_on_commit_callbacks
):
    email = store(mailbox, message("Open me"))
    first = store(mailbox, message("Plans", message_id="plans@x"))
    second = store(mailbox, message("Re: Plans", in_reply_to="plans@x"))
    with django_capture_on_commit_callbacks(execute=True):
        detail = signed_in.get(reverse("mail:detail", args=[email.pk]), **THE_READER[who])
        signed_in.get(reverse("mail:thread", args=[first.thread_id]), **THE_READER[who])
    assert "data-read-on-open" not in detail.content.decode()
    assert Email.objects.filter(pk__in=[email.pk, first.pk, second.pk], is_seen=True, flags_pending=True).count() == 3
    pushed = DBTaskResult.objects.filter(task_path=PUSH_TASK)
    assert sorted(r.args_kwargs["args"][0] for r in pushed) == sorted([email.pk, first.pk, second.pk])


def test_the_pages_own_mark_as_read_form_marks_it_read(alice, mailbox, django_capture_on_commit_callbacks):
    """What mail.js posts when the GET did not mark the message (and what the reader clicks without
    JavaScript): the page's own form, CSRF token included."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    email = store(mailbox, message("Old browser"))
    page = browser.get(reverse("mail:detail", args=[email.pk])).content.decode()
    form = re.search(r'<form class="mark-read" method="post" action="([^"]+)" data-read-on-open>(.*?)</form>',
                     page, re.DOTALL)
    assert form is not None
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form[2]))
    assert fields["seen"] == "1"
    assert browser.post(form[1], {"seen": "1"}).status_code == 403  # without the page's token: refused
    with django_capture_on_commit_callbacks(execute=True):
        answer = browser.post(form[1], fields)
    assert answer.status_code == 302 and answer["Location"] == f"{reverse('mail:detail', args=[email.pk])}#m{email.pk}"
    email.refresh_from_db()
    assert email.is_seen and email.flags_pending
    assert [r.args_kwargs["args"] for r in DBTaskResult.objects.filter(task_path=PUSH_TASK)] == [[email.pk]]
    page = browser.get(reverse("mail:detail", args=[email.pk])).content.decode()
    assert "data-read-on-open" not in page and '<form class="mark-unread" method="post"' in page
