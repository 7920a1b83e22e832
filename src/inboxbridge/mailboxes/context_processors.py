from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse


def mailbox_alerts(request: HttpRequest) -> dict[str, Any]:
    """A notice on every page while one of the user's mailboxes needs them to reconnect."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from inboxbridge.mailboxes.models import Mailbox

    alerts = [
        {
            "text": f"Email synchronization of {mailbox.email_address} has been disabled. "
            "Please click Reconnect to enable the sync.",
            "url": reverse("mailboxes:email-configuration"),
            "action": "Reconnect",
        }
        for mailbox in Mailbox.objects.filter(owner=user, active=True, needs_reconnect=True).only("email_address")
    ]
    return {"mailbox_alerts": alerts}
