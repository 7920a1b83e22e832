"""Office 365 shared mailboxes opened through a delegate: a person who holds Full Access on the
shared mailbox signs in as themselves, and their delegated token (stored on the mailbox row and
refreshed like an own mailbox's, tokens.py) opens it.

Exchange's rules: IMAP logs in with XOAUTH2 `user=` the SHARED address and the delegate's token
(Full Access); SMTP must log in as the token's owner, `user=` the DELEGATE's address, and the
message's sender stays the shared address, which Exchange accepts only with Send As. A shared
mailbox has no licence and no SMTP login of its own.
"""

from __future__ import annotations

from typing import ClassVar

from inboxbridge.mailboxes.credentials.office365 import Office365Provider
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.login import IMAP, Service


def grant_full_access_command(shared: str, delegate: str) -> str:
    return f"Add-MailboxPermission -Identity {shared} -User {delegate} -AccessRights FullAccess"


def grant_send_as_command(shared: str, delegate: str) -> str:
    return f"Add-RecipientPermission -Identity {shared} -Trustee {delegate} -AccessRights SendAs"


def full_access_refused(shared: str, delegate: str, detail: str) -> str:
    """Exchange refused a delegate's IMAP login to the shared mailbox (no Full Access, or not yet)."""
    return (f"{delegate} has no Full Access on {shared}: Exchange refused to open the shared mailbox with "
            f"{delegate}'s sign-in ({detail.strip().rstrip('.')}). An Exchange Online administrator grants it in "
            f"PowerShell with: {grant_full_access_command(shared, delegate)} (it can take up to an hour to "
            "apply), or sign in as another person who holds Full Access.")


class SharedMailboxProvider(Office365Provider):
    kind: ClassVar[str] = Mailbox.AccountType.OFFICE365_SHARED

    def username(self, mailbox: Mailbox, service: Service) -> str:
        # IMAP opens the shared mailbox itself; SMTP authenticates as the token's owner (Exchange
        # refuses the shared address there with 535 5.7.3).
        return mailbox.email_address if service == IMAP else mailbox.signed_in_as

    def refused_advice(self, mailbox: Mailbox, service: Service) -> str:
        shared, delegate = mailbox.email_address, mailbox.signed_in_as or "<delegate>"
        if service == IMAP:
            return ("Check that the delegate whose sign-in this mailbox uses still holds Full Access on it "
                    f"(Exchange Online PowerShell: {grant_full_access_command(shared, delegate)}), or Reconnect "
                    "with another delegate who does")
        return ("Check that the delegate whose sign-in this mailbox uses may send as it: Send As "
                f"(Exchange Online PowerShell: {grant_send_as_command(shared, delegate)}) and SMTP AUTH for "
                "the delegate's own mailbox")

    def explain_refusal(self, mailbox: Mailbox, service: Service, detail: str) -> str:
        delegate = mailbox.signed_in_as or "the delegate"
        if service == IMAP:
            return full_access_refused(mailbox.email_address, delegate, detail)
        return detail
