"""Helpers of the notifications tests: connecting an Office 365 system mailbox through the real
flow, running the periodic job as the scheduler does, and reading what arrived."""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.urls import reverse
from tests.factories import make_mailbox
from tests.fixtures import sign_in_without_browser

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.notifications.tasks import scan_for_notifications


def connect_system_office365(client: Any, admin: Any, stack: Any, identity: Any) -> Mailbox:
    """A licensed service account connected as a system mailbox by an administrator (Connect, then
    Microsoft's answer at the one Redirect URI)."""
    address = f"desk-{uuid.uuid4().hex[:6]}@{stack.domain}"
    password = stack.add_user(address)
    identity.add_user(address, password, name="Service Desk")
    mailbox = make_mailbox(None, folders=(), label="Service Desk", email_address=address, account_type="office365",
                           password="", imap_host="", smtp_host="")
    client.force_login(admin)
    started = client.post(reverse("mailbox-settings:system-mailbox-connect", args=[mailbox.pk]))
    answer = sign_in_without_browser(started["Location"], address, password, str(identity.ca_file))
    page = client.get(reverse("microsoft:callback"), answer, follow=True).content.decode()
    assert f"Connected Account: {address}" in page, page[:2000]
    client.logout()
    return Mailbox.objects.get(pk=mailbox.pk)


def scan(capture: Any) -> dict[str, int]:
    """One run of the periodic job, its on-commit work (the emails' tasks) included."""
    with capture(execute=True):
        result: dict[str, int] = scan_for_notifications.call()
    return result


def postfix_saw(stack: Any, mechanism: str, address: str) -> bool:
    """Postfix logs the SASL mechanism and user of every authenticated submission."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if f"sasl_method={mechanism}, sasl_username={address.lower()}" in stack.log():
            return True
        time.sleep(0.05)
    return False
