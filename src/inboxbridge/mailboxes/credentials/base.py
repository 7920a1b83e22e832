"""The interface every kind of account's credential provider implements (one module per kind).

A provider answers, for one mailbox of its kind: where its servers are and how to log in to them
now (a `ServerLogin`, with a fresh credential), whether a credential the server refused can be
replaced by a fresh one, whether its servers are ones a user typed, and what the user can do
when the server refuses it. Nothing else in the application asks which kind a mailbox is in order
to connect: it asks the mailbox's provider (`credentials.provider_for`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailserver.login import ServerLogin, Service


class CredentialProvider(ABC):
    kind: ClassVar[str]
    """The `Mailbox.account_type` served: the registry's key."""

    renewable: ClassVar[bool] = False
    """A credential the server refused may be replaced by a fresh one (an access token revoked or
    expired early): callers then log in once more with `force_refresh=True`."""

    servers_typed_by_user: ClassVar[bool] = False
    """The servers are whatever the mailbox's user typed: what they answer is never shown to
    anyone (it could be any service inside the network); our own wording is used instead."""

    @abstractmethod
    def login(self, mailbox: Mailbox, service: Service, *, force_refresh: bool = False) -> ServerLogin:
        """Where and how to log in to the mailbox's `service` server now. Raises MailboxUnavailable
        (ServerRefused when the server may not be contacted) with a text for its owner, or
        MicrosoftError when no access token can be had."""

    @abstractmethod
    def refused_advice(self, mailbox: Mailbox, service: Service) -> str:
        """What the people of `mailbox` can do when its `service` server refuses the credential (a
        sentence without its final stop, so a caller can add what comes next)."""

    def explain_refusal(self, mailbox: Mailbox, service: Service, detail: str) -> str:
        """What the people of `mailbox` read when the `service` server refused its credential even
        when fresh (`detail`: the server's answer). By default the answer itself; a kind whose
        refusals have a cause the answer does not name (a delegate's rights) says it here."""
        return detail
