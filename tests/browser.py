"""What browser tests do the same way: sign in with a password on the login page, add a system
mailbox through the System menu."""

from __future__ import annotations

from typing import Any


def sign_in(page: Any, live_server: Any, username: str, password: str) -> None:
    """Sign in on the login page, as a person would, and wait for My Emails."""
    page.goto(f"{live_server.url}/accounts/login/?next=/mail/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/mail/")


def add_system_mailbox(page: Any, label: str, address: str, account_type: str) -> None:
    """As a signed-in administrator: System > System Mailboxes > Add, with a label, an address and
    an account type (a Mailbox.AccountType value), then Save; the mailbox's page is open after."""
    page.click("summary:has-text('System')")
    page.click("a:has-text('System Mailboxes')")
    page.click("#add-system-mailbox")
    page.fill("#id_label", label)
    page.fill("#id_email_address", address)
    page.select_option("#id_account_type", account_type)
    page.click("#system-mailbox-form button[type=submit]")
    page.wait_for_selector(f".message.success:has-text('{label} saved')")


def read_in_switcher(page: Any, live_server: Any, username: str, password: str, label: str, subject: str) -> None:
    """Sign in afresh as another user and open the mailbox `label` in My Emails' mailbox switcher,
    waiting for the email `subject` in its list."""
    page.context.clear_cookies()
    sign_in(page, live_server, username, password)
    page.locator("#mailbox-switcher").locator(f"a:has-text('{label}')").click()
    page.wait_for_selector(f"#email-list:has-text('{subject}')")
