"""Mailbox alerts: which system mailboxes need someone's attention, what to say and who is told.
This module is the one place of that rule; the banner on every page, the System Mailboxes list and
(later) the alert emails all ask it.

A system mailbox alerts while Microsoft refuses its sign-in (`needs_reconnect`), or once its sync
has failed `settings.MAILBOX_ALERT_AFTER_FAILURES` times in a row (`failure_count`, which the first
successful sync resets). Told are the administrators (staff), and the people who may read the
mailbox (`queries.visible_mailboxes`, the one rule of that) who hold the permission
`mailboxes.receive_mailbox_alerts`, given to them or to one of their groups (a role).

Emailing once per incident: an incident is identified by `MailboxAlert.incident_key`, the mailbox's
id and the moment the trouble began, taken as its last successful sync (its setup if it never
synced). The key stays the same while the mailbox keeps failing and changes when it fails again
after a success. A periodic job can walk `current_alerts()`, email `alert_recipients(mailbox)` for
every key it has not recorded yet, and record the key (a table with a unique key column), so a
restart or a second worker sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import visible_mailboxes

PERMISSION = "mailboxes.receive_mailbox_alerts"
# The server's own words are shown, but not a page of them.
ERROR_SHOWN_CHARS = 300


@dataclass(frozen=True)
class MailboxAlert:
    mailbox: Mailbox
    problem: str  # what is wrong
    advice: str  # what the reader can do about it
    began_at: datetime
    url: str = ""  # the mailbox's page in System Mailboxes: administrators only

    @property
    def incident_key(self) -> str:
        return f"{self.mailbox.pk}:{self.began_at.isoformat()}"


def alerting_q() -> Q:
    """The system mailboxes in use that alert, for queries (the same rule as `alert_of`)."""
    return Q(owner__isnull=True, active=True) & (
        Q(needs_reconnect=True) | Q(failure_count__gte=settings.MAILBOX_ALERT_AFTER_FAILURES)
    )


def alert_of(mailbox: Mailbox, *, for_admin: bool) -> MailboxAlert | None:
    """The alert of a mailbox in hand, worded for an administrator or for one of its readers;
    None while it is fine (or is not a system mailbox in use)."""
    if not mailbox.is_system or not mailbox.active:
        return None
    began = mailbox.last_success_at or mailbox.created_at
    name = f"System mailbox {mailbox.label} ({mailbox.email_address})"
    if mailbox.needs_reconnect:
        reason = _shown(mailbox.reconnect_reason)
        who = "Microsoft" if mailbox.is_office365 else "The mail server"
        problem = f"{name}: {who} refused its sign-in, so its mail is no longer synchronized." + (
            f" {who} said: {_sentence(reason)}" if reason else "")
        if not for_admin:
            advice = ("An administrator has to reconnect it; they are alerted too. New mail does not arrive here "
                      "until then.")
        elif mailbox.is_office365:
            advice = (f"Open it and click Reconnect, signing in as {mailbox.signed_in_as or mailbox.email_address} "
                      "or another account that may open it.")
        else:
            advice = "Open it and check and save its IMAP and SMTP settings with the current password."
    elif mailbox.failure_count >= settings.MAILBOX_ALERT_AFTER_FAILURES:
        error = _shown(mailbox.last_error) or "no reason was given"
        problem = (f"{name}: synchronization failed {mailbox.failure_count} times in a row since "
                   f"{timezone.localtime(began):%Y-%m-%d %H:%M}: {_sentence(error)}")
        advice = ("Open it to check its settings; the sync keeps retrying meanwhile." if for_admin
                  else "The administrators are alerted too. The sync keeps retrying; new mail arrives once it "
                       "succeeds.")
    else:
        return None
    url = reverse("mailbox-settings:system-mailbox", args=[mailbox.pk]) if for_admin else ""
    return MailboxAlert(mailbox, problem, advice, began, url)


def may_receive_alerts(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Administrators, and users holding the permission themselves or through a group."""
    if not user.is_authenticated:
        return False
    return bool(getattr(user, "is_staff", False)) or (isinstance(user, PermissionsMixin) and user.has_perm(PERMISSION))


def mailbox_alerts_for(user: AbstractBaseUser | AnonymousUser) -> list[MailboxAlert]:
    """The alerts `user` sees: of the system mailboxes they may read, if they may receive alerts;
    the link to the mailbox's page only for administrators (the only ones who can open it)."""
    if not may_receive_alerts(user):
        return []
    for_admin = bool(getattr(user, "is_staff", False))
    mailboxes = visible_mailboxes(user).filter(alerting_q()).order_by("label")
    return [alert for mailbox in mailboxes if (alert := alert_of(mailbox, for_admin=for_admin))]


def current_alerts() -> list[MailboxAlert]:
    """Every alert now, worded for administrators (for a job that emails them)."""
    mailboxes = Mailbox.objects.filter(alerting_q()).order_by("label")
    return [alert for mailbox in mailboxes if (alert := alert_of(mailbox, for_admin=True))]


def alert_recipients(mailbox: Mailbox) -> list[AbstractBaseUser]:
    """Who is told about `mailbox`: the same people `mailbox_alerts_for` shows it to. Asked per
    candidate through visible_mailboxes, so who may see a mailbox stays decided there alone."""
    holders = Q(is_staff=True) | Q(is_superuser=True) | Q(
        user_permissions__codename="receive_mailbox_alerts", user_permissions__content_type__app_label="mailboxes",
    ) | Q(groups__permissions__codename="receive_mailbox_alerts",
          groups__permissions__content_type__app_label="mailboxes")
    candidates = get_user_model().objects.filter(holders, is_active=True).distinct().order_by("pk")
    return [user for user in candidates
            if may_receive_alerts(user) and visible_mailboxes(user).filter(pk=mailbox.pk).exists()]


def _sentence(text: str) -> str:
    """The server's words end a sentence the advice follows."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_SHOWN_CHARS else text[:ERROR_SHOWN_CHARS - 1] + "…"
