"""Presentation of addresses, dates and plain-text bodies in My Emails."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.template.defaultfilters import urlize
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from inboxbridge.mail.downloads import download_name
from inboxbridge.mail.models import Attachment

register = template.Library()

# urlize walks the text word by word in Python: beyond this size the body is shown without links.
LINKIFY_MAX_CHARS = 100_000


@register.filter
def address(name: str, address: str = "") -> SafeString:
    if name and address and name != address:
        return format_html('{} <span class="muted">&lt;{}&gt;</span>', name, address)
    return format_html("{}", name or address or "(unknown)")


@register.filter
def addresses(value: Any) -> SafeString:
    """[[name, address], ...] as stored in Email.to/cc."""
    pairs = [(p[0], p[1]) for p in value or [] if isinstance(p, (list, tuple)) and len(p) == 2]
    return format_html_join(", ", "{}", ((address(n, a),) for n, a in pairs))


@register.filter
def list_date(value: datetime | None) -> str:
    """Short like a mail client: the time today, the day this year, the full date before."""
    if value is None:
        return ""
    local, now = timezone.localtime(value), timezone.localtime()
    if local.date() == now.date():
        return date_format(local, "H:i")
    return date_format(local, "j M" if local.year == now.year else "j M Y")


@register.filter
def plain_body(text: str) -> SafeString:
    if len(text) <= LINKIFY_MAX_CHARS:
        return SafeString(urlize(text, autoescape=True))
    return SafeString(escape(text))


@register.filter
def part_name(part: Attachment) -> str:
    return download_name(part)
