"""HTTP sessions for outbound calls (the identity platform) that trust what lib/tls.py trusts."""

from __future__ import annotations

import ssl
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from inboxbridge.lib.tls import client_ssl_context


class _ContextAdapter(HTTPAdapter):
    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        return super().init_poolmanager(*args, **kwargs)


def http_session() -> requests.Session:
    """A requests session that trusts exactly what `client_ssl_context` trusts.

    `trust_env` is off because REQUESTS_CA_BUNDLE in the environment would silently replace our
    trust store, and proxies for Microsoft's endpoints are configured explicitly when needed.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = _ContextAdapter(client_ssl_context())
    session.mount("https://", adapter)
    return session

