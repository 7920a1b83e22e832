"""Writes of Sign in with Microsoft: one transaction each, each audited."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration.actions import save_options
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.signin.models import MicrosoftLogin, UnlinkedMicrosoftAccount
from inboxbridge.signin.options import SIGN_IN_DOMAINS, SIGN_IN_ENABLED, SIGN_IN_TENANTS

HOW = {MicrosoftLogin.Origin.USER: "linked by the user",
       MicrosoftLogin.Origin.DOMAIN: "first sign-in in an allowed domain"}


class AlreadyLinked(Exception):
    """The Microsoft account signs in as another user already."""


class NotLinkable(Exception):
    """The domain rule may not link this account to this user (an administrator, or an unlinked account)."""


def save_sign_in_settings(
    actor: User | AnonymousUser, *, enabled: bool, domains: list[str], tenants: list[str] | None = None
) -> list[str]:
    """Save the settings page; `tenants` None keeps the stored list of directories."""
    values = {SIGN_IN_ENABLED: "1" if enabled else "0", SIGN_IN_DOMAINS: ", ".join(domains)}
    if tenants is not None:
        values[SIGN_IN_TENANTS] = ", ".join(tenants)
    return save_options(actor, values, audit="signin.settings_changed")


@transaction.atomic
def link_microsoft_login(user: User, identity: SignedInIdentity, *, origin: MicrosoftLogin.Origin) -> MicrosoftLogin:
    """Let the account sign in as `user`: confirmed by the user (USER), or by the domain rule (DOMAIN)."""
    existing = MicrosoftLogin.objects.filter(tid=identity.tid, oid=identity.oid).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise AlreadyLinked(identity.username)
        return existing
    unlinked = UnlinkedMicrosoftAccount.objects.filter(tid=identity.tid, oid=identity.oid)
    # Checked again here, whatever the caller decided: the domain rule trusts a claim Microsoft calls
    # mutable, so it never grants an administrator's rights nor undoes an unlink.
    if origin == MicrosoftLogin.Origin.DOMAIN and (user.is_staff or user.is_superuser or unlinked.exists()):
        raise NotLinkable(identity.username)
    try:
        with transaction.atomic():
            login = MicrosoftLogin.objects.create(user=user, tid=identity.tid, oid=identity.oid,
                                                  username=identity.username, origin=origin)
    except IntegrityError:  # linked by a concurrent request
        raise AlreadyLinked(identity.username) from None
    if origin == MicrosoftLogin.Origin.USER:
        unlinked.delete()  # the user chose it again
    record_audit_event(user, "signin.linked", identity.username, how=HOW[origin], tid=identity.tid)
    return login


@transaction.atomic
def record_sign_in(user: User, identity: SignedInIdentity) -> None:
    MicrosoftLogin.objects.filter(user=user, tid=identity.tid, oid=identity.oid).update(last_used_at=timezone.now())
    record_audit_event(user, "signin.microsoft", identity.username)


@transaction.atomic
def unlink_microsoft_login(user: User, login_id: int) -> MicrosoftLogin | None:
    """Remove the link and remember it, so that no automatic rule links the account again."""
    login = MicrosoftLogin.objects.filter(pk=login_id, user=user).first()
    if login is not None:
        login.delete()
        UnlinkedMicrosoftAccount.objects.update_or_create(
            tid=login.tid, oid=login.oid, defaults={"username": login.username, "user": user})
        record_audit_event(user, "signin.unlinked", login.username)
    return login
