"""Reads of the api app: tokens, remembered sends and connect links. Mail and mailboxes are read through their own
apps' queries (the `visible_*` querysets over mailboxes.queries.visible_mailboxes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from inboxbridge.api import tokens
from inboxbridge.api.models import ApiToken, ConnectLink, IdempotentSend
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import own_mailboxes

AnyUser = AbstractBaseUser | AnonymousUser


def tokens_shown_to(user: AnyUser) -> QuerySet[ApiToken]:
    """The tokens listed on API Tokens: a user's own (and those they made for others); an
    administrator sees every token, to revoke any."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    tokens = ApiToken.objects.select_related("user", "created_by")
    if getattr(user, "is_staff", False):
        return tokens
    return tokens.filter(Q(user_id=user.pk) | Q(created_by_id=user.pk))


def token_by_key_id(key_id: str) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(key_id=key_id).first()


def idempotency_cutoff() -> datetime:
    return timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)


def remembered_send(user: User, key: str) -> IdempotentSend | None:
    """The send made under this Idempotency-Key within the remembered window, if any."""
    return (IdempotentSend.objects.select_related("message")
            .filter(user_id=user.pk, key=key, created_at__gte=idempotency_cutoff()).first())


def connect_link_by_secret(secret: str) -> ConnectLink | None:
    """The link whose URL carries `secret` (found by the secret's hash: the secret is not kept)."""
    if not tokens.is_link_secret(secret):
        return None
    return (ConnectLink.objects.select_related("owner", "token", "mailbox")
            .filter(secret_sha256=tokens.secret_hash(secret)).first())


def connect_link(pk: int) -> ConnectLink | None:
    return ConnectLink.objects.select_related("owner", "token", "mailbox").filter(pk=pk).first()


def reconnectable_mailboxes(user: AnyUser) -> QuerySet[Mailbox]:
    """The mailboxes a connect link of `user` may Reconnect: their own Office 365 mailboxes."""
    return own_mailboxes(user).filter(account_type=Mailbox.AccountType.OFFICE365)


def link_gone(link: ConnectLink, now: datetime) -> str:
    """Why `link` can no longer be used ("used", "expired", "withdrawn": its token was revoked or
    expired, or its user deactivated), or "" while it can."""
    if link.used_at is not None:
        return "used"
    if link.expires_at <= now:
        return "expired"
    return "withdrawn" if link_withdrawn(link, now) else ""


def link_withdrawn(link: ConnectLink, now: datetime) -> bool:
    """Whether the application's access that made `link` ended: its token revoked or expired, its
    user deactivated."""
    return link.token.revoked_at is not None or link.token.expires_at <= now or not link.owner.is_active
