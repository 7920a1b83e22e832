"""Which incidents exist now, and whom each is told: read from the state the other apps keep, so
none of their actions needs a hook (the periodic job asks here; see tasks.scan).

An incident has a key that stays the same while it lasts and changes when it happens again:
- a revoked or failing mailbox: its id and the moment the trouble began, its last successful sync
  (its setup if it never synced), as in mailboxes/alerts.py;
- a system mailbox alert: `MailboxAlert.incident_key` (the same rule);
- a message that could not be sent: its id and the moment of its last attempt (a Retry that fails
  again is a new incident);
- a failing webhook endpoint: its id and the moment it was marked failing;
- the Microsoft credential: the certificate's SHA-256 thumbprint, expiry and whether it has expired
  or expires soon; a client secret Microsoft reported expired: the credentials' fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from inboxbridge.mailboxes import alerts
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import certificates
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.context_processors import credential_alert
from inboxbridge.notifications.models import Kind
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.webhooks.queries import failing_endpoints

# A message that failed before this is not announced any more (e.g. the first run after an upgrade).
FAILED_MESSAGE_LOOKBACK = timedelta(days=3)
CONFIGURATION = "My Configuration > Email Configuration"


@dataclass(frozen=True)
class Incident:
    user: AbstractBaseUser
    kind: str
    key: str
    subject: str
    body: str
    url: str = ""  # a path of this site


def current_incidents() -> Iterator[Incident]:
    yield from revoked_mailboxes()
    yield from failing_syncs()
    yield from failed_messages()
    yield from credential_expiry()
    yield from system_mailbox_alerts()
    yield from failing_webhooks()


def _began(mailbox: Mailbox) -> str:
    return (mailbox.last_success_at or mailbox.created_at).isoformat()


def _users_mailboxes() -> Q:
    return Q(owner__isnull=False, owner__is_active=True, active=True)


def revoked_mailboxes() -> Iterator[Incident]:
    for mailbox in Mailbox.objects.filter(_users_mailboxes(), needs_reconnect=True).select_related("owner"):
        assert mailbox.owner is not None  # by the filter
        who = "Microsoft" if mailbox.is_office365 else "The mail server"
        reason = mailbox.reconnect_reason.strip().rstrip(".")
        said = f" It said: {reason}." if reason else ""
        yield Incident(
            mailbox.owner, Kind.MAILBOX_REVOKED, f"{mailbox.pk}:{_began(mailbox)}",
            f"Reconnect your mailbox {mailbox.email_address}",
            f"{who} no longer accepts the sign-in of {mailbox.email_address}, so its mail is not synchronized "
            f"and it cannot send.{said} Open the mailbox in {CONFIGURATION} and click Reconnect.",
            reverse("mailboxes:mailbox", args=[mailbox.pk]),
        )


def failing_syncs() -> Iterator[Incident]:
    since = timezone.now() - timedelta(hours=settings.NOTIFY_SYNC_FAILING_HOURS)
    failing = Mailbox.objects.filter(
        _users_mailboxes(), needs_reconnect=False, sync_enabled=True, failure_count__gt=0,
    ).filter(Q(last_success_at__lte=since) | Q(last_success_at__isnull=True, created_at__lte=since))
    for mailbox in failing.select_related("owner"):
        assert mailbox.owner is not None  # by the filter
        began = mailbox.last_success_at or mailbox.created_at
        error = " ".join(mailbox.last_error.split())[:300] or "no reason was given"
        yield Incident(
            mailbox.owner, Kind.SYNC_FAILING, f"{mailbox.pk}:{_began(mailbox)}",
            f"The sync of {mailbox.email_address} has been failing since {timezone.localtime(began):%Y-%m-%d %H:%M}",
            f"New mail of {mailbox.email_address} has not arrived in inboxbridge since "
            f"{timezone.localtime(began):%Y-%m-%d %H:%M}: its sync failed {mailbox.failure_count} times in a row. "
            f"The last error: {error.rstrip('.')}. The sync keeps retrying; check the mailbox's settings in "
            f"{CONFIGURATION}.",
            reverse("mailboxes:mailbox", args=[mailbox.pk]),
        )


def failed_messages() -> Iterator[Incident]:
    failed = OutgoingMessage.objects.filter(
        state=OutgoingMessage.State.FAILED, author__is_active=True, last_attempt_at__isnull=False,
        last_attempt_at__gte=timezone.now() - FAILED_MESSAGE_LOOKBACK,
    ).select_related("author", "mailbox").defer("mime", "body_text")
    for message in failed:
        assert message.last_attempt_at is not None  # by the filter
        subject = message.subject or "(no subject)"
        yield Incident(
            message.author, Kind.SEND_FAILED, f"{message.pk}:{message.last_attempt_at.isoformat()}",
            f"Your message “{subject[:200]}” could not be sent",
            f"Your message “{subject}” from {message.mailbox.email_address} could not be sent: "
            f"{message.last_error.rstrip('.')}. It waits in the Outbox, where you can retry or cancel it.",
            reverse("sending:outbox"),
        )


def credential_expiry() -> Iterator[Incident]:
    config = load_config()
    text = credential_alert(config)
    if not text:
        return
    if config.uses_certificate:
        info = certificates.describe(config.certificate_pem)
        state = "expired" if info.expired else "soon"
        key = f"certificate:{info.sha256_thumbprint}:{info.not_after:%Y-%m-%d}:{state}"
        subject = ("The Microsoft application's certificate has expired" if info.expired
                   else f"The Microsoft application's certificate expires on {info.not_after:%Y-%m-%d}")
    else:
        key = f"secret:{config.fingerprint}"
        subject = "The Microsoft application's client secret has expired"
    admins = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk")
    for admin in admins:
        yield Incident(admin, Kind.CREDENTIAL_EXPIRY, key, subject, text, reverse("microsoft:settings"))


def system_mailbox_alerts() -> Iterator[Incident]:
    for alert in alerts.current_alerts():
        for user in alerts.alert_recipients(alert.mailbox):
            worded = alerts.alert_of(alert.mailbox, for_admin=bool(getattr(user, "is_staff", False)))
            if worded is None:
                continue
            yield Incident(
                user, Kind.SYSTEM_MAILBOX_ALERT, alert.incident_key,
                f"System mailbox {alert.mailbox.label} needs attention",
                f"{worded.problem} {worded.advice}", worded.url,
            )



def failing_webhooks() -> Iterator[Incident]:
    """An endpoint that gave up on a delivery after a day of retries: the administrators are told,
    and the user whose endpoint it is."""
    admins = list(get_user_model().objects.filter(is_staff=True, is_active=True).order_by("pk"))
    for endpoint in failing_endpoints():
        assert endpoint.failing_since is not None  # by the query
        key = f"{endpoint.pk}:{endpoint.failing_since.isoformat()}"
        text = (f"The webhook endpoint {endpoint.url} did not accept an event for a day and that event was "
                f"given up: {endpoint.last_error.rstrip('.')}. Later events are still tried; Resend the given-up "
                "ones from the endpoint's delivery log once the receiver works again.")
        owner = endpoint.owner
        people = [*admins, *([owner] if owner is not None and owner.is_active and owner not in admins else [])]
        for person in people:
            url = reverse("system-webhooks:endpoint" if owner is None else "webhooks:endpoint", args=[endpoint.pk])
            if owner is not None and person != owner:
                url = ""  # an administrator cannot open a user's endpoint page
            yield Incident(person, Kind.WEBHOOK_FAILING, key, f"Webhook endpoint {endpoint.url[:150]} is failing",
                           text, url)
