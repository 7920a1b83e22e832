"""Writes of the api app, one transaction each: tokens made and revoked, their use noted, a send
queued at most once per Idempotency-Key, connect links made, used and finished. They never enqueue:
the caller hands a queued message to the outbox's worker (sending.tasks.dispatch_on_commit), and a
connected mailbox to the scheduler (jobs.scheduler.request_sync)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.api import queries, tokens
from inboxbridge.api.models import ApiToken, ConnectLink, IdempotentSend
from inboxbridge.mailboxes import actions as mailbox_actions
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.sending.actions import Draft, queue_message
from inboxbridge.sending.models import OutgoingMessage

# last_used_at is written at most this often per token: a busy client must not turn every read
# into a write.
LAST_USED_PRECISION = timedelta(minutes=1)
# An expired connect link still says "expired" this long; then it is forgotten (an unknown link).
KEEP_EXPIRED_LINKS = timedelta(days=1)


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


@dataclass(frozen=True)
class CreatedLink:
    link: ConnectLink
    secret: str  # for the link's URL, answered once; only its hash is kept


@transaction.atomic
def create_connect_link(token: ApiToken, *, redirect_url: str, mailbox: Mailbox | None,
                        login_hint: str) -> CreatedLink:
    """A link connecting an Office 365 mailbox (Reconnect: `mailbox`) as one of the token's user's,
    for INBOXBRIDGE_API_CONNECT_LINK_MINUTES. The user's links expired long ago are forgotten."""
    now = timezone.now()
    ConnectLink.objects.filter(owner_id=token.user_id, expires_at__lt=now - KEEP_EXPIRED_LINKS).delete()
    secret = tokens.new_link_secret()
    link = ConnectLink.objects.create(
        owner_id=token.user_id, token=token, secret_sha256=tokens.secret_hash(secret), redirect_url=redirect_url,
        mailbox=mailbox, login_hint=login_hint, expires_at=now + timedelta(minutes=settings.API_CONNECT_LINK_MINUTES),
    )
    record_audit_event(token.user, "api_connect_link.created", mailbox.email_address if mailbox else "",
                       link=link.pk, key_id=token.key_id, token=token.name, returns_to=_origin(redirect_url),
                       expires_at=link.expires_at.isoformat())
    return CreatedLink(link, secret)


def _origin(url: str) -> str:
    """Where a redirect_url goes, without its path and query (which may carry the application's own state)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if url else ""


def use_connect_link(link: ConnectLink) -> bool:
    """Mark `link` used: True for the one request that does (one conditional UPDATE, so of two
    racing requests one wins); False when it was used or expired meanwhile."""
    now = timezone.now()
    return bool(ConnectLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now))


@transaction.atomic
def connect_through_link(link: ConnectLink, identity: SignedInIdentity, token_cache: str,
                         fingerprint: str) -> mailbox_actions.Saved:
    """The person who opened `link` signed in at Microsoft: their mailbox becomes one of the link
    owner's (or Reconnects the link's mailbox). WrongAccount, AlreadyConnected and
    Mailbox.DoesNotExist (the mailbox was disconnected meanwhile) as connect_office365_mailbox."""
    saved = mailbox_actions.connect_office365_mailbox(link.owner, identity, token_cache, fingerprint,
                                                      mailbox_id=link.mailbox_id)
    record_audit_event(link.owner, "api_connect_link.connected", saved.mailbox.email_address, link=link.pk,
                       key_id=link.token.key_id, token=link.token.name, mailbox=saved.mailbox.pk,
                       reconnect=link.mailbox_id is not None)
    return saved


def record_link_refusal(link: ConnectLink, error: str) -> None:
    """A connect link that ended without a mailbox (declined, refused by Microsoft, the wrong account)."""
    record_audit_event(link.owner, "api_connect_link.refused", link.mailbox.email_address if link.mailbox else "",
                       link=link.pk, key_id=link.token.key_id, token=link.token.name, error=error)
