"""{% sync_status mailbox %}: the sync status card (state, last sync, message count, Sync now)
for any page that shows a mailbox, e.g. My Emails."""

from __future__ import annotations

from typing import Any

from django import template

from inboxbridge.jobs.status import sync_status as status_of
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import office365_enabled

register = template.Library()


@register.inclusion_tag("jobs/sync_status.html", takes_context=True)
def sync_status(context: template.Context, mailbox: Mailbox) -> dict[str, Any]:
    request = context.get("request")
    return {
        "mailbox": mailbox,
        "status": status_of(mailbox, office365_enabled=office365_enabled()),
        "csrf_token": context.get("csrf_token"),
        "next_url": request.get_full_path() if request is not None else "",
    }
