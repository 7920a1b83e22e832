"""The one way the tests make a mailbox row (the real connect flows are in tests/fixtures.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from inboxbridge.mailboxes.models import Folder, Mailbox

NEW_USER: Any = object()  # make_mailbox's default owner: a user of its own
# (name, display name, special use): an Inbox and the Sent folder a sent message's copy goes to.
STANDARD_FOLDERS = (("INBOX", "Inbox", "\\Inbox"), ("Sent Items", "Sent Items", "\\Sent"))


def make_mailbox(owner: Any = NEW_USER, *, folders: Iterable[tuple[str, str, str]] = STANDARD_FOLDERS,
                 **fields: Any) -> Mailbox:
    """A password ("Other") mailbox, due for sync, with `folders` selected. `owner` is a user, None
    (a system mailbox), or left out for a new user; `fields` set anything else. Its servers are
    under .invalid, a name that never resolves: a test that reaches them has to say where."""
    if owner is NEW_USER:
        name = f"u{uuid.uuid4().hex[:10]}"
        owner = get_user_model().objects.create_user(name, f"{name}@example.test", "pw-" + name)
    address = f"{owner.get_username()}@example.test" if owner is not None else f"{uuid.uuid4().hex[:8]}@example.test"
    values: dict[str, Any] = {
        "email_address": address, "account_type": Mailbox.AccountType.OTHER, "state": Mailbox.State.IDLE,
        "imap_host": "imap.invalid", "imap_port": 993, "smtp_host": "smtp.invalid", "smtp_port": 587,
        "username": address, "password": "secret-password",
        "next_sync_at": timezone.now() - timedelta(seconds=1),
        # A system mailbox needs its own Mailbox Label.
        **({"label": f"Mailbox {address}"} if owner is None else {}),
        **fields,
    }
    mailbox = Mailbox.objects.create(owner=owner, **values)
    for folder_name, display_name, special_use in folders:
        Folder.objects.create(mailbox=mailbox, name=folder_name, display_name=display_name, special_use=special_use,
                              selected=True, delimiter="/")
    return mailbox
