from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from inboxbridge.mailboxes.messages import RECONNECT_MESSAGE, reconnect_alert
from inboxbridge.mailboxes.models import Mailbox


def mailbox_alerts(request: HttpRequest) -> dict[str, Any]:
    """A notice on every page while one of the user's mailboxes needs them to reconnect, and the
    Reconnect sentence for the pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    alerts = [
        {"text": reconnect_alert(mailbox.email_address), "url": reverse("mailboxes:email-configuration"),
         "action": "Reconnect"}
        for mailbox in Mailbox.objects.filter(owner=user, active=True, needs_reconnect=True).only("email_address")
    ]
    return {"mailbox_alerts": alerts, "reconnect_message": RECONNECT_MESSAGE}
