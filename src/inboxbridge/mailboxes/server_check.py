"""The live check of an "Other" account's servers before it is saved.

Any signed-in user can ask for it, so it must not serve as a probe of the network: the servers are
vetted first (`server_policy`), each user gets a few checks per ten minutes, every network step has a
short timeout (INBOXBRIDGE_MAIL_CHECK_TIMEOUT, not the long mail timeout), and a failure says which
step failed in our own words: whatever the far end sent (a banner, an error line) is never shown.
"""

from __future__ import annotations

import imaplib
import math
import smtplib
import ssl
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from inboxbridge.mailboxes import actions, queries
from inboxbridge.mailboxes.connection import ServerLogin, imap_login, smtp_login
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.server_policy import ServerRefused

CHECK_WINDOW = timedelta(minutes=10)
SECURITY_HINT = "Check the port and the security setting."


def rate_limit_problem(user: User) -> str:
    """Why this user may not check now ("" when they may)."""
    limit = max(int(settings.MAIL_CHECKS_PER_10_MINUTES), 1)
    now = timezone.now()
    recent = queries.server_check_times(user, since=now - CHECK_WINDOW)
    if len(recent) < limit:
        return ""
    minutes = max(math.ceil((recent[-limit] + CHECK_WINDOW - now).total_seconds() / 60), 1)
    return (f"Too many checks: mail server settings can be checked {limit} times in 10 minutes. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.")


def check_servers(user: User, candidate: Mailbox) -> str:
    """Log in to the candidate's IMAP and SMTP servers; "" when both accept, else what failed.
    Both servers are vetted before either is contacted, so a refused SMTP host never sees the
    password either. The check is recorded (the rate limit counts these records)."""
    from inboxbridge.mailserver import smtp
    from inboxbridge.mailserver.imap import ImapError, ImapSession

    actions.record_server_check(user, candidate)
    try:
        imap = imap_login(candidate)
        outgoing = smtp_login(candidate)
    except ServerRefused as refused:
        return str(refused)
    timeout = float(settings.MAIL_CHECK_TIMEOUT)
    try:
        with ImapSession(imap, timeout=timeout):
            pass
    except ImapError as error:
        return "IMAP check failed: " + imap_failure_text(error, imap, timeout)
    try:
        smtp.check_login(outgoing, timeout=timeout)
    except smtp.SmtpError as error:
        return "SMTP check failed: " + _smtp_failure_text(error, outgoing, timeout)
    except OSError:  # the goodbye after a good login broke off: smtplib's errors are OSErrors
        return f"SMTP check failed: {outgoing.host}:{outgoing.port} broke off the connection."
    return ""


def imap_failure_text(error: Exception, login: ServerLogin, timeout: float) -> str:
    """What failed, from the exception imap.py translated (kept as `__context__` by its
    `raise ... from None`), never from the server's words."""
    cause = error.__context__
    where = f"{login.host}:{login.port}"
    if getattr(error, "auth_failed", False):
        return f"the server at {where} refused the login of {login.username}. Check the username and password."
    if type(cause) is imaplib.IMAP4.error and getattr(error, "transient", False):  # a NO [UNAVAILABLE], not a break
        return f"the server at {where} is busy or unavailable. Try again later."
    if isinstance(cause, imaplib.IMAP4.abort) and str(cause) == "TLS not supported by server":  # imaplib's words
        return f"the server at {where} offers no STARTTLS on this port. {SECURITY_HINT}"
    return _network_text(cause, where, "IMAP", timeout)


def _smtp_failure_text(error: Exception, login: ServerLogin, timeout: float) -> str:
    cause = error.__context__
    where = f"{login.host}:{login.port}"
    if getattr(error, "auth_failed", False):
        return f"the server at {where} refused the login of {login.username}. Check the username and password."
    if isinstance(cause, smtplib.SMTPNotSupportedError):
        return f"the server at {where} offers no STARTTLS or no login on this port. {SECURITY_HINT}"
    return _network_text(cause, where, "SMTP", timeout)


def _network_text(cause: BaseException | None, where: str, protocol: str, timeout: float) -> str:
    if isinstance(cause, TimeoutError):
        return f"{where} did not answer within {timeout:g} seconds. Check the host and port."
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {where} is not trusted (expired, self-signed or for another name)."
    if isinstance(cause, ssl.SSLError | ssl.CertificateError):
        return f"TLS with {where} failed. {SECURITY_HINT}"
    if isinstance(cause, OSError) and not isinstance(cause, smtplib.SMTPException):
        return f"could not connect to {where}. Check the host and port."
    return f"{where} did not answer like an {protocol} server. Check the host, the port and the security setting."
