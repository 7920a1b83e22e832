"""Failed password sign-ins: one log line each (the user name tried and the address, never the
password), and an audit-log entry when a sign-in gets locked. django-axes keeps each failure in
its own failure log besides (`inboxbridge manage axes_list_attempts` lists the counts)."""

from __future__ import annotations

import logging
from typing import Any

from axes.helpers import get_client_ip_address, get_client_username, get_failure_limit
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from inboxbridge.accounts.actions import record_audit_event

logger = logging.getLogger(__name__)

# A user name longer than the field allows was never a user name; the rest is not worth a log line.
SHOWN_NAME_LENGTH = 150


def attempted_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    name = get_client_username(request, credentials) if request is not None else None
    return str(name or "")[:SHOWN_NAME_LENGTH]


def client_address(request: HttpRequest) -> str:
    """The address django-axes counts this request under (the proxy's client behind a proxy)."""
    return getattr(request, "axes_ip_address", None) or get_client_ip_address(request) or "an unknown address"


@receiver(user_login_failed, dispatch_uid="inboxbridge.accounts.audit.log_failed_sign_in")
def log_failed_sign_in(sender: object, credentials: dict[str, Any], request: HttpRequest | None = None,
                       **kwargs: Any) -> None:
    if request is None:  # not a sign-in page (a script calling authenticate): nothing to attribute it to
        return
    # django-axes' receiver ran first (its app is listed before this one) and flagged a lock.
    outcome = "refused: locked" if getattr(request, "axes_locked_out", False) else "failed"
    # %r quotes the name: a typed newline cannot forge a second log line.
    logger.warning("Password sign-in %s for user name %r from %s",
                   outcome, attempted_username(request, credentials), client_address(request))


@receiver(user_locked_out, dispatch_uid="inboxbridge.accounts.audit.audit_lockout")
def audit_lockout(sender: object, request: HttpRequest, username: str | None, ip_address: str | None,
                  **kwargs: Any) -> None:
    """Sent on every failure while locked; recorded once, by the failure that reached the limit."""
    credentials = getattr(request, "axes_credentials", None)
    limit = get_failure_limit(request, credentials)
    if getattr(request, "axes_failures_since_start", None) != limit:
        return
    name = str(username or "")[:SHOWN_NAME_LENGTH]
    record_audit_event(None, "sign_in.locked", name, address=ip_address or "", failures=limit)
    # The user name, the address or both reached the limit: the latest failure names them.
    logger.warning("Password sign-in locked after %d failures (the latest for user name %r from %s)",
                   limit, name, ip_address or "an unknown address")
