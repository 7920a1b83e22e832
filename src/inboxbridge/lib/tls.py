"""Outbound TLS: the system's trust store plus the operator's extra CA file (INBOXBRIDGE_CA_BUNDLE).

Without requests (lib/http.py builds HTTP sessions on it): the sync's helper processes import
this and should start fast."""

from __future__ import annotations

import os
import ssl
import threading

from django.conf import settings


def client_ssl_context() -> ssl.SSLContext:
    """One shared context per process and CA file: loading the system trust store costs about
    40 ms of CPU, as much as the rest of a no-change sync. Contexts are safe to share between
    threads and connections; a replaced CA file (other path, size or time) gets a fresh one."""
    bundle = str(settings.CA_BUNDLE or "")
    key: tuple[str, int, int] = (bundle, 0, 0)
    if bundle:
        try:
            stat = os.stat(bundle)
            key = (bundle, stat.st_mtime_ns, stat.st_size)
        except OSError:
            pass  # load_verify_locations below says what is wrong with it
    with _lock:
        context = _contexts.get(key)
        if context is None:
            context = ssl.create_default_context()
            if bundle:
                context.load_verify_locations(cafile=bundle)
            _contexts.clear()  # the settings changed: the old context is not wanted again
            _contexts[key] = context
        return context


_contexts: dict[tuple[str, int, int], ssl.SSLContext] = {}
_lock = threading.Lock()
