"""HTTP POSTs of webhooks to one endpoint, over a connection to an address vetted when it was
opened (lib/netguard.py).

The name is resolved and every address vetted when a connection is opened, and the requests go to
the vetted address itself, with the name in the Host header and (HTTPS) in the TLS SNI and
certificate check. A second lookup by the HTTP library could otherwise answer with another address
(DNS rebinding: a name with a short lifetime that first points outside, then inside). The delivery
opens one connection per run of a lane (a hundred deliveries and two minutes at most, see
delivery.py) and keeps it alive between the run's requests: a burst of new mail is sent over one
connection instead of one lookup and connection per event, and no run lives long enough for the
vetted address to matter more than it does for a single request.

Redirects are not followed (a 3xx is a failure): a redirect could point anywhere, past the vetting.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from inboxbridge.lib.netguard import HostRefused, vet_host
from inboxbridge.lib.redact import redact
from inboxbridge.lib.tls import client_ssl_context

EXCERPT_CHARS = 500
READ_AT_MOST = 4096


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status: int | None
    latency_ms: int | None
    excerpt: str  # what the receiver answered, or why nothing was sent


class UrlRefused(ValueError):
    """The URL may not be used; the message is safe to show to whoever typed it."""


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL without credentials; UrlRefused otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused("The URL must start with https:// (or http://) and name a host.")
    if parts.username or parts.password:
        raise UrlRefused("The URL must not carry a user name or password: the signature proves who is sending.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("The URL's port is not a number between 1 and 65535.") from None
    return parts.scheme, parts.hostname, port


def vet_url(url: str) -> list[Any]:
    """Resolve the URL's host and vet every address (the check when saving, and before each send)."""
    _scheme, host, port = check_url(url)
    try:
        return vet_host(host, port, allow_private=settings.WEBHOOKS_ALLOW_PRIVATE)
    except HostRefused as refused:
        raise UrlRefused(refused.message) from None


class _PinnedTLS(HTTPAdapter):
    """HTTPS to an address while checking the certificate against (and sending SNI for) the name."""

    def __init__(self, host: str) -> None:
        self._host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(ssl_context=client_ssl_context(), server_hostname=self._host, assert_hostname=self._host)
        super().init_poolmanager(*args, **kwargs)


class Connection:
    """Requests to one endpoint URL over one kept-alive connection to the address vetted at opening
    (a new connection only when the receiver closed it). Use as a context manager."""

    def __init__(self, url: str) -> None:
        self.refused = ""
        try:
            addresses = vet_url(url)
        except UrlRefused as refused:
            self.refused = f"Not sent: {refused}"
            addresses = []
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment: it would connect to the name again
        if not addresses:
            return
        scheme, host, port = check_url(url)
        address = addresses[0]
        literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
        parts = urlsplit(url)
        self._pinned = urlunsplit((scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        default_port = 443 if scheme == "https" else 80
        self._host_header = host if port == default_port else f"{host}:{port}"
        if scheme == "https":
            self._session.mount("https://", _PinnedTLS(host))

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()

    def post(self, body: bytes, headers: dict[str, str]) -> Attempt:
        if self.refused:
            return Attempt(False, None, None, self.refused)
        started = time.perf_counter()
        try:
            # Streamed, and at most READ_AT_MOST of the answer read: a short answer read to its end
            # leaves the connection for the next request; a longer one is dropped with its connection.
            with self._session.post(self._pinned, data=body, headers={**headers, "Host": self._host_header},
                                    timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False,
                                    stream=True) as response:
                text = response.raw.read(READ_AT_MOST, decode_content=True).decode("utf-8", "replace")
                latency = round((time.perf_counter() - started) * 1000)
                status = response.status_code
        except requests.Timeout:
            return Attempt(False, None, _ms(started), f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s.")
        except requests.RequestException as error:
            return Attempt(False, None, _ms(started), _excerpt(f"Could not connect: {error.__class__.__name__}."))
        if 300 <= status < 400:
            where = response.headers.get("Location", "")
            return Attempt(False, status, latency,
                           _excerpt(f"Redirected to {where} (redirects are not followed). {text}"))
        return Attempt(200 <= status < 300, status, latency, _excerpt(text))


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _excerpt(text: str) -> str:
    return redact(" ".join(text.split()))[:EXCERPT_CHARS]
