"""What people read about a mailbox that cannot be used now, written once.

The owner reads these on the Email Configuration page, in the alert on every page, on the sync
status card and as the error of a sync; `inboxbridge sync` tells the operator (who cannot click
anything) in words of its own, also kept here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models import nothing of this module; only the type is needed here
    from inboxbridge.mailboxes.models import Mailbox

# Microsoft refused the mailbox's sign-in (a revoked grant): only its owner can give it again.
RECONNECT_MESSAGE = "Email synchronization has been disabled. Please click Reconnect to enable the sync."
DISCONNECTED = "The mailbox was disconnected."
SYNC_SWITCHED_OFF = "Synchronization is switched off for this mailbox."
OFFICE365_DISABLED = "The Office 365 integration is disabled by an administrator in Microsoft Settings."
OWN_SETTINGS = "My Configuration > Email Configuration"
SYSTEM_SETTINGS = "System > Configuration > Email Configuration > System Mailboxes"

# The same reasons at `inboxbridge sync`, after "mailbox N (address): failed: ".
OPERATOR_DISCONNECTED = "the mailbox is disconnected"
OPERATOR_RECONNECT = "its sign-in was refused; the owner must reconnect it in Email Configuration"
OPERATOR_SYNC_SWITCHED_OFF = "synchronization is switched off for this mailbox"
OPERATOR_OFFICE365_DISABLED = "the Office 365 integration is disabled in Microsoft Settings"


def already_connected(address: str) -> str:
    return (f"You have already connected {address}: it is in your list of mailboxes. Open it there to reconnect it "
            "or change its settings.")


def delegate_departed(username: str, delegate: str) -> str:
    """Why a shared mailbox stopped when the user whose delegate sign-in it used left."""
    return (f"The shared mailbox used the sign-in of {delegate or 'a delegate'}, given by {username}, who was "
            "deactivated or removed. Reconnect with another delegate who holds Full Access on it.")


def reconnect_alert(email_address: str) -> str:
    """The notice shown on every page while one of the user's mailboxes needs them to reconnect."""
    return f"{email_address}: {RECONNECT_MESSAGE}"


def settings_place(mailbox: Mailbox) -> str:
    """Where the people of `mailbox` change its settings or reconnect it: a user's own page, or
    for a system mailbox the administrators' page of that mailbox."""
    return f"{SYSTEM_SETTINGS} > {mailbox.email_address}" if mailbox.is_system else OWN_SETTINGS
