"""The error every way of using a mailbox raises when it cannot be used now (its credential, its
server's policy, its state), with a text for its owner. Apart so the modules that raise it need
nothing else from each other."""

from __future__ import annotations


class MailboxUnavailable(Exception):
    """The mailbox cannot be used now; the message says why and what to do."""
