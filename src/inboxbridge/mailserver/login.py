"""Where and how to log in to one mail server: the one value every door of this package takes.

Framework-free and picklable: the sync's helper processes (sync/pipeline.py), which import no
Django models, get the same login as the process that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Service = Literal["imap", "smtp"]  # which of a mailbox's servers a login is for
IMAP: Service = "imap"
SMTP: Service = "smtp"


@dataclass(frozen=True)
class ServerLogin:
    host: str  # the name the server's TLS certificate is checked against
    port: int
    security: str  # "ssl" (implicit TLS), "starttls" or "none"
    username: str
    mechanism: str  # "XOAUTH2" or "PLAIN"
    secret: str = field(repr=False)  # the access token or the password: never logged
    # The host's addresses as vetted right before this login: the connection goes to one of them,
    # never to a fresh lookup of `host` (network.py). Empty: look the host up (the deployment's own).
    addresses: tuple[str, ...] = ()
