"""Reads of Sign in with Microsoft."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from inboxbridge.configuration import store
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.microsoft.config import load_config
from inboxbridge.signin.matching import Candidates, parse_domains
from inboxbridge.signin.models import MicrosoftLogin


def sign_in_available() -> bool:
    """Enabled by an administrator, with Microsoft Settings complete and proven."""
    if store.get(store.SIGN_IN_ENABLED) != "1":
        return False
    config = load_config()
    return config.credentials_verified


def allowed_domains() -> list[str]:
    return parse_domains(store.get(store.SIGN_IN_DOMAINS))


def sign_in_name(identity: SignedInIdentity) -> str:
    """The account's sign-in name (UPN) only: never the `email` claim, which any directory can set."""
    return str(identity.claims.get("preferred_username") or "")


def candidates(identity: SignedInIdentity) -> Candidates:
    name = sign_in_name(identity)
    linked = MicrosoftLogin.objects.filter(tid=identity.tid, oid=identity.oid).values_list("user_id", flat=True)
    owners = Mailbox.objects.filter(ms_tid=identity.tid, ms_oid=identity.oid, owner__isnull=False, active=True,
                                    account_type=Mailbox.AccountType.OFFICE365).values_list("owner_id", flat=True)
    by_name = list(get_user_model().objects.filter(email__iexact=name).values_list("pk", flat=True)[:2]) if name else []
    return Candidates(
        linked_user=linked.first(),
        mailbox_owner=owners.first() if identity.tid and identity.oid else None,
        user_by_username=by_name[0] if len(by_name) == 1 else None,
    )
