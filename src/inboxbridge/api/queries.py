"""Reads of the api app: tokens and remembered sends. Mail and mailboxes are read through their own
apps' queries (the `visible_*` querysets over mailboxes.queries.visible_mailboxes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Q, QuerySet
from django.utils import timezone

from inboxbridge.api.models import ApiToken, IdempotentSend

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
