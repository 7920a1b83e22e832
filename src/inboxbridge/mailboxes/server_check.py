"""The live checks before a mailbox is saved: an "Other" account's servers, and a delegate's
access to a shared mailbox.

Any signed-in user can ask for it, so it must not serve as a probe of the network: the servers are
vetted first (`server_policy`), each user gets a few checks per ten minutes, every network step has a
short timeout (INBOXBRIDGE_MAIL_CHECK_TIMEOUT, not the long mail timeout), and a failure says which
step failed in our own words (mailserver/failures.py): whatever the far end sent (a banner, an error
line) is never shown.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from inboxbridge.mailboxes import actions, queries
from inboxbridge.mailboxes.credentials import imap_login, smtp_login
from inboxbridge.mailboxes.credentials.shared import full_access_refused
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.server_policy import ServerRefused
from inboxbridge.mailserver import imap, smtp
from inboxbridge.mailserver.failures import imap_failure_text, smtp_failure_text
from inboxbridge.microsoft.errors import MicrosoftError

CHECK_WINDOW = timedelta(minutes=10)


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
    actions.record_server_check(user, candidate)
    try:
        incoming = imap_login(candidate)
        outgoing = smtp_login(candidate)
    except ServerRefused as refused:
        return str(refused)
    timeout = float(settings.MAIL_CHECK_TIMEOUT)
    try:
        imap.check_login(incoming, timeout=timeout)
    except imap.ImapError as error:
        return "IMAP check failed: " + imap_failure_text(error, incoming, timeout)
    try:
        smtp.check_login(outgoing, timeout=timeout)
    except smtp.SmtpError as error:
        return "SMTP check failed: " + smtp_failure_text(error, outgoing, timeout)
    except OSError:  # the goodbye after a good login broke off: smtplib's errors are OSErrors
        return f"SMTP check failed: {outgoing.host}:{outgoing.port} broke off the connection."
    return ""


def check_full_access(candidate: Mailbox) -> str:
    """Before a shared mailbox is saved with a delegate's sign-in: "" when the delegate's token
    opens it over IMAP (`user=` the shared address), else why not. Exchange answers a delegate
    without Full Access with a refused login, which is said in those words."""
    try:
        login = imap_login(candidate)
        imap.check_login(login, timeout=float(settings.MAIL_CHECK_TIMEOUT))
    except imap.ImapError as error:
        if error.auth_failed:
            return full_access_refused(candidate.email_address, candidate.signed_in_as, error.message)
        return f"{candidate.email_address} could not be opened: {error.message}"
    except MicrosoftError as error:
        return error.message
    except MailboxUnavailable as error:
        return str(error)
    return ""
