"""Showing dates in the reader's time zone.

Users have no time zone setting yet, so the browser tells us its own: mail.js stores the IANA name
(Intl.DateTimeFormat().resolvedOptions().timeZone) in the `inboxbridge_tz` cookie, and the mail views
run under `in_browser_time_zone`, which activates that zone for the request (templates then convert
every date into it). Without the cookie, or with a name this server does not know, settings.TIME_ZONE
applies. When a per-user setting arrives, it goes first in `zone_for`.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE = "inboxbridge_tz"
# IANA names: "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC". Checked before
# ZoneInfo sees it, so a cookie cannot name a file path.
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")


def zone_for(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    name = request.COOKIES.get(COOKIE, "")
    if len(name) > 64 or not _NAME.fullmatch(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def in_browser_time_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        zone = zone_for(request)
        if zone is None:
            return view(request, *args, **kwargs)
        with timezone.override(zone):
            response = view(request, *args, **kwargs)
            # Template responses render lazily; render while the zone is active.
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                render()
            return response

    return wrapper
