"""Writes of Sign in with Microsoft: one transaction each, each audited."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration import store
from inboxbridge.configuration.actions import save_options
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.signin.models import MicrosoftLogin


class AlreadyLinked(Exception):
    """The Microsoft account signs in as another user already."""


def save_sign_in_settings(actor: User | AnonymousUser, *, enabled: bool, domains: list[str]) -> list[str]:
    return save_options(actor, {store.SIGN_IN_ENABLED: "1" if enabled else "0",
                                store.SIGN_IN_DOMAINS: ", ".join(domains)}, audit="signin.settings_changed")


@transaction.atomic
def link_microsoft_login(user: User, identity: SignedInIdentity, *, how: str) -> MicrosoftLogin:
    existing = MicrosoftLogin.objects.filter(tid=identity.tid, oid=identity.oid).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise AlreadyLinked(identity.username)
        return existing
    try:
        with transaction.atomic():
            login = MicrosoftLogin.objects.create(user=user, tid=identity.tid, oid=identity.oid,
                                                  username=identity.username)
    except IntegrityError:  # linked by a concurrent request
        raise AlreadyLinked(identity.username) from None
    record_audit_event(user, "signin.linked", identity.username, how=how)
    return login


@transaction.atomic
def record_sign_in(user: User, identity: SignedInIdentity) -> None:
    MicrosoftLogin.objects.filter(user=user, tid=identity.tid, oid=identity.oid).update(last_used_at=timezone.now())
    record_audit_event(user, "signin.microsoft", identity.username)


@transaction.atomic
def unlink_microsoft_login(user: User, login_id: int) -> MicrosoftLogin | None:
    login = MicrosoftLogin.objects.filter(pk=login_id, user=user).first()
    if login is not None:
        login.delete()
        record_audit_event(user, "signin.unlinked", login.username)
    return login
