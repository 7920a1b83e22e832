"""Reads of Sign in with Microsoft."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from inboxbridge.configuration import store
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.microsoft.config import load_config
from inboxbridge.signin.matching import Candidates, Policy, parse_domains, parse_tenants, tenant_refusal
from inboxbridge.signin.models import MicrosoftLogin, UnlinkedMicrosoftAccount
from inboxbridge.signin.options import SIGN_IN_DOMAINS, SIGN_IN_ENABLED, SIGN_IN_TENANTS


def sign_in_available() -> bool:
    """Enabled by an administrator, with Microsoft Settings complete and proven."""
    if store.get(SIGN_IN_ENABLED) != "1":
        return False
    config = load_config()
    return config.credentials_verified


def allowed_domains() -> list[str]:
    return parse_domains(store.get(SIGN_IN_DOMAINS))


def allowed_tenants() -> list[str]:
    return parse_tenants(store.get(SIGN_IN_TENANTS))


def policy() -> Policy:
    return Policy(allowed_domains(), allowed_tenants(), load_config().tenant_id)


def sign_in_name(identity: SignedInIdentity) -> str:
    """The account's sign-in name (UPN) only: never the `email` claim, which any directory can set."""
    return str(identity.claims.get("preferred_username") or "")


def candidates(identity: SignedInIdentity) -> Candidates:
    name = sign_in_name(identity)
    linked = MicrosoftLogin.objects.filter(tid=identity.tid, oid=identity.oid).values_list("user_id", flat=True)
    by_name = list(get_user_model().objects.filter(email__iexact=name)
                   .values_list("pk", "is_staff", "is_superuser")[:2]) if name else []
    one = by_name[0] if len(by_name) == 1 else None
    return Candidates(
        linked_user=linked.first(),
        user_by_username=one[0] if one else None,
        user_by_username_is_admin=bool(one and (one[1] or one[2])),
        unlinked=UnlinkedMicrosoftAccount.objects.filter(tid=identity.tid, oid=identity.oid).exists(),
    )


def logins_of(user_id: int) -> list[MicrosoftLogin]:
    return list(MicrosoftLogin.objects.filter(user_id=user_id).order_by("linked_at"))


def link_refusal(user_id: int, identity: SignedInIdentity) -> str:
    """Why the user may not link this account, or "" if they may (and then confirm it)."""
    if not identity.tid or not identity.oid:
        return "Microsoft did not say which account signed in (no tid or oid claim); nothing was linked."
    if refusal := tenant_refusal(identity.tid, policy()):
        return f"{identity.username} was not linked. {refusal}"
    owner = MicrosoftLogin.objects.filter(tid=identity.tid, oid=identity.oid).values_list("user_id", flat=True).first()
    if owner is not None and owner != user_id:
        return f"{identity.username} already signs in as another user here; it was not linked."
    return ""
