"""Reads of the sending app. Every lookup for a user starts from mailboxes.queries.visible_mailboxes,
the one place that decides whose mailboxes a user may see."""

from __future__ import annotations

from django.db.models import F, QuerySet

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import AnyUser as User
from inboxbridge.mailboxes.queries import visible_mailboxes
from inboxbridge.sending.models import OutgoingMessage


def sendable_mailboxes(user: User) -> QuerySet[Mailbox]:
    """The mailboxes `user` may send from: every connected mailbox they may read (their own ones,
    and the system mailboxes they are authorized for), while it does not need a reconnect (and,
    for "Other" accounts, has an SMTP server). Their own mailboxes come first."""
    if not user.is_authenticated:
        return Mailbox.objects.none()
    return (
        visible_mailboxes(user)
        .filter(active=True, needs_reconnect=False)
        .exclude(account_type=Mailbox.AccountType.OTHER, smtp_host="")
        .order_by(F("owner_id").asc(nulls_last=True), "label", "email_address")
    )


def visible_outgoing(user: User) -> QuerySet[OutgoingMessage]:
    """The outbox of `user`: what they wrote, from mailboxes they can still see."""
    if not user.is_authenticated:
        return OutgoingMessage.objects.none()
    return OutgoingMessage.objects.filter(author_id=user.pk, mailbox__in=visible_mailboxes(user))


def unusable_mailbox(user: User) -> Mailbox | None:
    """The user's connected mailbox when it cannot send (to say why on the Compose page)."""
    if not user.is_authenticated:
        return None
    return visible_mailboxes(user).filter(owner_id=user.pk, active=True).first()
