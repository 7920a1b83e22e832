"""Every page under the Content-Security-Policy in a real browser: nothing refused, no script error,
and the page's scripts still work."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.browser import sign_in
from tests.factories import make_mailbox

from inboxbridge.mail.tests.helpers import message, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_no_page_breaks_the_content_security_policy(browser_context, live_server, admin_user):
    email = store(make_mailbox(admin_user), message("Styled", html="<p style='color:red'>Hello <b>there</b></p>"))
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda entry: problems.append(f"{page.url}: {entry.text}") if entry.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    sign_in(page, live_server, "admin", "admin-password-1")

    for name, args in [("mail:detail", [email.pk]), ("sending:compose", []), ("sending:outbox", []),
                       ("mailboxes:email-configuration", []), ("signin:mine", []), ("signin:settings", []),
                       ("microsoft:settings", []), ("configuration:system-information", []),
                       ("jobs:mailbox-list", [])]:
        page.goto(f"{live_server.url}{reverse(name, args=args)}")
        page.wait_for_load_state("load")

    page.goto(f"{live_server.url}{reverse('mail:detail', args=[email.pk])}")
    body = page.frame_locator("iframe.html-body").locator("b")
    assert body.inner_text() == "there"  # the message frame renders under its own policy

    page.goto(f"{live_server.url}{reverse('mailboxes:email-configuration')}")
    with page.expect_navigation():  # the Account Type choice is sent by app.js, not an inline handler
        page.select_option("#id_account_type", "other")
    assert "type=other" in page.url

    assert problems == [], "\n".join(problems)
