"""Reads of the notifications app: a person's notifications and what they want to be told."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from inboxbridge.mailboxes.alerts import may_receive_alerts
from inboxbridge.notifications.models import Kind, Notification, Preference

LIST_LENGTH = 50
AnyUser = AbstractBaseUser | AnonymousUser


def kinds_for(user: AnyUser) -> list[Kind]:
    """The kinds that can concern `user`: the administrators' kinds only for them, the system
    mailbox alerts only for who may receive them."""
    kinds = [Kind.MAILBOX_REVOKED, Kind.SYNC_FAILING, Kind.SEND_FAILED]
    if getattr(user, "is_staff", False):
        kinds.append(Kind.CREDENTIAL_EXPIRY)
    if may_receive_alerts(user):
        kinds.append(Kind.SYSTEM_MAILBOX_ALERT)
    return kinds


def channels_of(user_ids: Iterable[Any]) -> dict[tuple[Any, str], tuple[bool, bool]]:
    """(user id, kind) -> (by email, in the app), for the choices saved; both are on without one."""
    return {(row.user_id, row.kind): (row.by_email, row.in_app)
            for row in Preference.objects.filter(user_id__in=list(user_ids))}


def preferences_of(user: AnyUser) -> dict[str, tuple[bool, bool]]:
    if not user.is_authenticated:
        return {}
    saved = channels_of([user.pk])
    return {kind: saved.get((user.pk, kind), (True, True)) for kind in kinds_for(user)}


def notifications_of(user: AnyUser) -> QuerySet[Notification]:
    """The user's latest notifications shown in the app, newest first."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user_id=user.pk, in_app=True).defer("email_error")[:LIST_LENGTH]


def unread_count(user: AnyUser) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user_id=user.pk, in_app=True, read_at__isnull=True).count()
