"""Writes of the api app, one transaction each: tokens made and revoked, their use noted, and a
send queued at most once per Idempotency-Key. They never enqueue: the caller hands a queued message
to the outbox's worker (sending.tasks.dispatch_on_commit)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.api import queries, tokens
from inboxbridge.api.models import ApiToken, IdempotentSend
from inboxbridge.sending.actions import Draft, queue_message
from inboxbridge.sending.models import OutgoingMessage

# last_used_at is written at most this often per token: a busy client must not turn every read
# into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # the whole token, to show once


@transaction.atomic
def create_token(*, user: User, created_by: User, name: str, scopes: Iterable[str],
                 expires_at: datetime) -> CreatedToken:
    new = tokens.new_secret()
    token = ApiToken.objects.create(
        user=user, created_by=created_by, name=name, key_id=new.key_id, secret_sha256=new.sha256,
        scopes=sorted(set(scopes)), expires_at=expires_at,
    )
    record_audit_event(created_by, "api_token.created", name, key_id=token.key_id, user=user.get_username(),
                       scopes=token.scopes, expires_at=expires_at.isoformat())
    return CreatedToken(token, new.token)


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User) -> bool:
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        record_audit_event(by, "api_token.revoked", token.name, key_id=token.key_id,
                           user=token.user.get_username())
    return bool(revoked)


def note_token_used(token: ApiToken, now: datetime) -> None:
    """Set last_used_at, unless it was set less than LAST_USED_PRECISION ago."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def record_refusal(token: ApiToken | None, reason: str, *, path: str) -> None:
    """A refused API request with a token we know (expired, revoked, short of a scope): audited."""
    if token is not None:
        record_audit_event(token.user, "api_token.refused", token.name, key_id=token.key_id, reason=reason,
                           path=path[:200])


class KeyReused(Exception):
    """The Idempotency-Key was used before for a different request."""


@dataclass(frozen=True)
class Queued:
    message: OutgoingMessage
    created: bool  # False: the same key was sent before, and this is that message


def queue_once(author: User, draft: Draft, *, key: str, request_sha256: str) -> Queued:
    """Queue `draft` unless this user already sent under `key`: then return that message. Two
    requests racing with one key end with one message (the unique constraint decides)."""
    try:
        with transaction.atomic():
            # Keys past the remembered window are forgotten (this user's, by the created_at index).
            IdempotentSend.objects.filter(user=author, created_at__lt=queries.idempotency_cutoff()).delete()
            earlier = queries.remembered_send(author, key)
            if earlier is not None:
                return _replay(earlier, request_sha256)
            message = queue_message(author, draft)
            IdempotentSend.objects.create(user=author, key=key, request_sha256=request_sha256, message=message)
            return Queued(message, created=True)
    except IntegrityError:
        # Another request with the same key committed first: its message is the one.
        earlier = queries.remembered_send(author, key)
        if earlier is None:
            raise
        return _replay(earlier, request_sha256)


def _replay(earlier: IdempotentSend, request_sha256: str) -> Queued:
    if earlier.request_sha256 != request_sha256:
        raise KeyReused
    if earlier.message is None:  # the outbox message was deleted since
        raise KeyReused
    return Queued(earlier.message, created=False)
