"""Requests per minute per API token: a fixed window counted in Django's cache.

With the default in-memory cache each process counts its own requests (one `inboxbridge serve`
process: exact); a fleet sets INBOXBRIDGE_CACHE_URL to a Redis every process shares. A fixed window
lets a client make up to twice the limit across a window boundary: enough to keep one client from
crowding out the others, which is all it is for."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


def retry_after(key_id: str, *, now: float | None = None) -> int | None:
    """Count one request of this token; None when it may go on, else the seconds until the next
    window opens (for Retry-After)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    key = f"api-rate:{key_id}:{window}"
    # add() then incr(): atomic on Redis and within one process; the entry outlives its window a little.
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    if count <= settings.API_RATE_LIMIT_PER_MINUTE:
        return None
    return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
