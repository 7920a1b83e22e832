from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from inboxbridge.mailboxes.alerts import mailbox_alerts_for
from inboxbridge.mailboxes.messages import RECONNECT_MESSAGE, reconnect_alert
from inboxbridge.mailboxes.models import Mailbox


def mailbox_alerts(request: HttpRequest) -> dict[str, Any]:
    """Notices on every page: one of the user's own mailboxes needs them to reconnect, or a system
    mailbox they are told about (mailboxes/alerts.py) stopped syncing; and the Reconnect sentence
    for the pages that show it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    alerts = [
        {"text": reconnect_alert(mailbox.email_address), "url": reverse("mailboxes:mailbox", args=[mailbox.pk]),
         "action": "Reconnect"}
        for mailbox in Mailbox.objects.filter(owner=user, active=True, needs_reconnect=True).only("email_address")
    ]
    return {"mailbox_alerts": alerts, "system_mailbox_alerts": mailbox_alerts_for(user),
            "reconnect_message": RECONNECT_MESSAGE}
