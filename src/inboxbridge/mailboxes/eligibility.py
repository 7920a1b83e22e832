"""May this mailbox sync now? The one rule, in two forms that must agree: `sync_refusal` for a
mailbox in hand (the engine, the flag push, `inboxbridge sync`, the sync status card) and
`eligible_q` for querysets (the scheduler's claim, the lease, the administrators' list).
tests/test_eligibility.py checks one against the other on every combination of the fields."""

from __future__ import annotations

from enum import Enum

from django.db.models import Q

from inboxbridge.mailboxes import messages
from inboxbridge.mailboxes.models import OFFICE365_KINDS, Mailbox
from inboxbridge.microsoft.config import office365_enabled as integration_enabled


class Refusal(Enum):
    """Why a mailbox may not sync, in the order the rule asks; str() is what its owner reads."""

    DISCONNECTED = (messages.DISCONNECTED, messages.OPERATOR_DISCONNECTED)
    NEEDS_RECONNECT = (messages.RECONNECT_MESSAGE, messages.OPERATOR_RECONNECT)
    SYNC_SWITCHED_OFF = (messages.SYNC_SWITCHED_OFF, messages.OPERATOR_SYNC_SWITCHED_OFF)
    OFFICE365_DISABLED = (messages.OFFICE365_DISABLED, messages.OPERATOR_OFFICE365_DISABLED)

    text: str
    operator_text: str

    def __init__(self, text: str, operator_text: str) -> None:
        self.text = text
        self.operator_text = operator_text

    def __str__(self) -> str:
        return self.text


def sync_refusal(mailbox: Mailbox, *, office365_enabled: bool | None = None) -> Refusal | None:
    """Why `mailbox` must not sync now, or None when it may. `office365_enabled` is the Microsoft
    Settings switch when the caller has read it already (the scheduler reads it once per tick);
    otherwise it is read here, and only for an Office 365 mailbox."""
    if not mailbox.active:
        return Refusal.DISCONNECTED
    if mailbox.needs_reconnect:
        return Refusal.NEEDS_RECONNECT
    if not mailbox.sync_enabled:
        return Refusal.SYNC_SWITCHED_OFF
    if mailbox.is_office365 and not _enabled(office365_enabled):
        return Refusal.OFFICE365_DISABLED
    return None


def eligible_q(*, office365_enabled: bool | None = None) -> Q:
    """The same rule as a filter: the mailboxes `sync_refusal` lets sync."""
    q = Q(active=True, sync_enabled=True, needs_reconnect=False)
    if not _enabled(office365_enabled):
        q &= ~Q(account_type__in=OFFICE365_KINDS)
    return q


def _enabled(office365_enabled: bool | None) -> bool:
    return integration_enabled() if office365_enabled is None else office365_enabled
