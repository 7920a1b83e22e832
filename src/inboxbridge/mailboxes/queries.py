"""Reads of the mailboxes app."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.mailboxes.models import Mailbox

AnyUser = AbstractBaseUser | AnonymousUser

SERVER_CHECK = "mailbox.server_check"


def visible_mailboxes(user: AnyUser) -> QuerySet[Mailbox]:
    """The mailboxes whose mail `user` may read: the one place that decides it. Their own mailboxes,
    and the system mailboxes (no owner) that name them as an Authorized User or one of their groups
    as an Authorized Role; administrators (staff) see every system mailbox. Disconnected mailboxes
    whose mail was kept stay readable to the same people."""
    if not user.is_authenticated:
        return Mailbox.objects.none()
    mine = Q(owner_id=user.pk)
    if getattr(user, "is_staff", False):
        return Mailbox.objects.filter(mine | Q(owner__isnull=True))
    # Subqueries, not joins: a user both named and in a named role still gets each mailbox once.
    granted = Mailbox.objects.filter(
        Q(authorized_users=user.pk) | Q(authorized_roles__user=user.pk)
    ).values("pk")
    return Mailbox.objects.filter(mine | Q(owner__isnull=True, pk__in=granted))


def own_mailboxes(user: AnyUser) -> QuerySet[Mailbox]:
    """The mailboxes a user connected themselves (Email Configuration), in the order they were added."""
    return visible_mailboxes(user).filter(owner_id=user.pk, active=True).order_by("created_at", "pk")


def connected_already(owner: AnyUser, address: str, *, exclude_pk: int | None = None) -> bool:
    """Whether `owner` has connected `address` already (each address once per user: the constraint
    unique_user_mailbox_email, asked before saving so the refusal can say it plainly)."""
    taken = Mailbox.objects.filter(owner_id=owner.pk, active=True, email_address__iexact=address)
    return (taken.exclude(pk=exclude_pk) if exclude_pk is not None else taken).exists()


def server_check_times(user: User, *, since: datetime) -> list[datetime]:
    """When this user checked Other mail servers since `since`, oldest first (from the audit log,
    which every web process shares: the rate limit holds across processes and machines)."""
    return list(AuditEvent.objects.filter(actor=user, action=SERVER_CHECK, created_at__gte=since)
                .order_by("created_at").values_list("created_at", flat=True))


def other_account_servers() -> list[tuple[str, str]]:
    """(IMAP host, SMTP host) of every connected Other account."""
    return list(Mailbox.objects.filter(active=True, account_type=Mailbox.AccountType.OTHER)
                .values_list("imap_host", "smtp_host"))
