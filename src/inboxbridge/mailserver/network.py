"""Opening the TCP connection to a mail server, at the address that was vetted.

A server a user typed is vetted right before each login (mailboxes/server_policy.py): its name is
looked up and every address checked. Looking the name up again to connect would let a DNS answer
with a short lifetime change in between (DNS rebinding: a public address for the check, then
127.0.0.1 or a metadata address for the connection). So the vetted addresses travel in the
`ServerLogin` and the connection goes to one of them; the name is kept for TLS (SNI and the
certificate check), so a pinned address never weakens the certificate check.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence


def open_connection(host: str, port: int, addresses: Sequence[str], timeout: float | None) -> socket.socket:
    """A connection to one of `addresses` (in turn, the first that answers), or to `host` looked
    up now when there are none (the deployment's own servers, which nobody vets)."""
    targets = list(addresses) or [host]
    failure: OSError | None = None
    for target in targets:
        try:
            if timeout is None:
                return socket.create_connection((target, port))
            return socket.create_connection((target, port), timeout)
        except OSError as exc:
            failure = exc
    assert failure is not None
    raise failure
