"""inboxbridge: a self-hosted Microsoft 365 mailbox integration."""

__version__ = "0.1.0"
