"""Writes of the notifications app, each one transaction. None enqueues anything: the periodic
job and the email task (tasks.py) hand out the emails these return."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.models import User as UserModel
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration.actions import clear_option, set_option
from inboxbridge.lib.redact import redact
from inboxbridge.notifications.incidents import Incident
from inboxbridge.notifications.models import Notification, Preference
from inboxbridge.notifications.queries import channels_of
from inboxbridge.sending.email_backend import APPLICATION_MAILBOX

# A worker that took an email and has not finished by then is presumed dead (an SMTP attempt,
# with a token renewal and a second try, takes a few network timeouts at most).
EMAIL_LEASE = timedelta(minutes=10)
# Failed sends wait 1, 2, 4 ... minutes, at most an hour; after this many attempts the email is
# given up (the notification stays in the app).
MAX_EMAIL_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)


@transaction.atomic
def record_incidents(incidents: Iterable[Incident]) -> list[int]:
    """A Notification for every incident not recorded yet, if its person wants it in the app or by
    email; returns the ids of the new ones whose email is to be sent (by the caller, on commit)."""
    incidents = list(incidents)
    if not incidents:
        return []
    user_ids = {incident.user.pk for incident in incidents}
    known = set(Notification.objects.filter(
        user_id__in=user_ids, incident_key__in={incident.key for incident in incidents},
    ).values_list("user_id", "kind", "incident_key"))
    channels = channels_of(user_ids)
    due = timezone.now() + EMAIL_LEASE
    to_email = []
    for incident in incidents:
        identity = (incident.user.pk, incident.kind, incident.key)
        by_email, in_app = channels.get((incident.user.pk, incident.kind), (True, True))
        if identity in known or not (by_email or in_app):
            continue
        known.add(identity)
        email, error = Notification.Email.NOT_WANTED, ""
        if by_email:
            has_address = bool(getattr(incident.user, "email", ""))
            email = Notification.Email.PENDING if has_address else Notification.Email.FAILED
            error = "" if has_address else "The account has no email address."
        try:
            # A savepoint per row: a second scan that recorded the same incident meanwhile wins.
            with transaction.atomic():
                notification = Notification.objects.create(
                    user_id=incident.user.pk, kind=incident.kind, incident_key=incident.key,
                    subject=incident.subject[:300], body=incident.body, url=incident.url[:500], in_app=in_app,
                    email=email, email_error=error, email_due_at=due if email == Notification.Email.PENDING else None,
                )
        except IntegrityError:
            continue
        if email == Notification.Email.PENDING:
            to_email.append(notification.pk)
    return to_email


def due_emails(*, limit: int = 100) -> list[int]:
    """Pending emails whose task never came or whose retry is due: each moved a lease ahead, so the
    next pass does not hand it out again meanwhile (the claim in `claim_email` is the guard)."""
    now = timezone.now()
    ids = list(Notification.objects.filter(email=Notification.Email.PENDING, email_due_at__lte=now)
               .order_by("email_due_at").values_list("pk", flat=True)[:limit])
    if ids:
        Notification.objects.filter(pk__in=ids, email=Notification.Email.PENDING, email_due_at__lte=now).update(
            email_due_at=now + EMAIL_LEASE)
    return ids


@transaction.atomic
def claim_email(notification_id: int) -> Notification | None:
    """Take a pending email for one attempt; None when it was sent, given up or taken by a worker
    still within its lease. This is what keeps a sent email from being sent again."""
    now = timezone.now()
    taken = Notification.objects.filter(pk=notification_id, email=Notification.Email.PENDING).filter(
        Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lt=now)
    ).update(email_claimed_until=now + EMAIL_LEASE, email_attempts=F("email_attempts") + 1)
    if not taken:
        return None
    return Notification.objects.select_related("user").get(pk=notification_id)


def record_email_sent(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(
        email=Notification.Email.SENT, email_sent_at=timezone.now(), email_claimed_until=None, email_error="")


def record_email_failure(notification: Notification, error: str, *, give_up: bool = False) -> datetime | None:
    """Note the failure; returns when the periodic job tries again, None when it gave up (after
    MAX_EMAIL_ATTEMPTS, or at once with `give_up`: trying again cannot help)."""
    error = redact(error)[:2000]
    if give_up:
        Notification.objects.filter(pk=notification.pk).update(
            email=Notification.Email.FAILED, email_claimed_until=None, email_due_at=None, email_error=error)
        return None
    if notification.email_attempts >= MAX_EMAIL_ATTEMPTS:
        Notification.objects.filter(pk=notification.pk).update(
            email=Notification.Email.FAILED, email_claimed_until=None, email_due_at=None,
            email_error=f"Gave up after {notification.email_attempts} attempts. {error}")
        return None
    again = timezone.now() + min(FIRST_RETRY * 2 ** max(notification.email_attempts - 1, 0), MAX_RETRY)
    Notification.objects.filter(pk=notification.pk).update(email_claimed_until=None, email_due_at=again,
                                                           email_error=error)
    return again


def mark_read(user: AbstractBaseUser, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them without ids); returns how many changed."""
    unread = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


@transaction.atomic
def save_preferences(user: AbstractBaseUser, choices: dict[str, tuple[bool, bool]]) -> None:
    """`choices`: kind -> (by email, in the app)."""
    for kind, (by_email, in_app) in choices.items():
        Preference.objects.update_or_create(user_id=user.pk, kind=kind,
                                            defaults={"by_email": by_email, "in_app": in_app})


@transaction.atomic
def choose_application_mailbox(actor: UserModel, address: str) -> None:
    """The system mailbox that sends the application's email ("" to choose none)."""
    if address:
        set_option(APPLICATION_MAILBOX, address, actor)
    else:
        clear_option(APPLICATION_MAILBOX)
    record_audit_event(actor, "application_email.mailbox_chosen", address or "(none)")


def prune_notifications(older_than: datetime, ongoing: Iterable[Incident], *, batch: int = 1000) -> int:
    """Delete (up to `batch`) notifications made before `older_than` whose email is not waiting
    to be sent and whose incident is over. The row of an incident still going on (a mailbox
    revoked for months) is what keeps it told once, so it stays."""
    going_on = {(incident.user.pk, incident.kind, incident.key) for incident in ongoing}
    with transaction.atomic():
        old = (Notification.objects.filter(created_at__lt=older_than).exclude(email=Notification.Email.PENDING)
               .order_by("id").values_list("pk", "user_id", "kind", "incident_key")[: batch * 2])
        ids = [pk for pk, *identity in old if tuple(identity) not in going_on][:batch]
        return Notification.objects.filter(pk__in=ids).delete()[0] if ids else 0
