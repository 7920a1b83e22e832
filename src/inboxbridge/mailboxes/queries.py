"""Reads of the mailboxes app."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.mailboxes.models import Mailbox

SERVER_CHECK = "mailbox.server_check"


def server_check_times(user: User, *, since: datetime) -> list[datetime]:
    """When this user checked Other mail servers since `since`, oldest first (from the audit log,
    which every web process shares: the rate limit holds across processes and machines)."""
    return list(AuditEvent.objects.filter(actor=user, action=SERVER_CHECK, created_at__gte=since)
                .order_by("created_at").values_list("created_at", flat=True))


def other_account_servers() -> list[tuple[str, str]]:
    """(IMAP host, SMTP host) of every connected Other account."""
    return list(Mailbox.objects.filter(active=True, account_type=Mailbox.AccountType.OTHER)
                .values_list("imap_host", "smtp_host"))
