"""Which user a Microsoft account signs in as: pure rules, tested without a server.

Never by the `email` claim: any tenant can put any address there (the "nOAuth" takeover class).
An account signs in as the user it is linked to (its `tid` + `oid`), and only if its directory may
sign in here. A link is made by the user, who signs in at Microsoft and then confirms; connecting a
mailbox never makes one, because whoever knows a shared mailbox's password would then sign in as its
owner. The one automatic link is the administrator's domain rule: a first sign-in whose sign-in
name (`preferred_username`) is a user's email, in an allowed domain. Microsoft calls that claim
mutable and says it must not decide authorization, so the rule never links an administrator, an
account its user unlinked, or a personal Microsoft account, whose names no directory verified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The directory of personal Microsoft accounts (outlook.com, hotmail.com, ...).
CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
# Authorities that accept accounts of any directory (Microsoft's multi-tenant endpoints).
MULTI_TENANT_AUTHORITIES = frozenset({"common", "organizations", "consumers"})


@dataclass(frozen=True)
class Candidates:
    """What the database knows about the account that signed in."""

    linked_user: int | None = None  # a MicrosoftLogin with its tid + oid
    user_by_username: int | None = None  # the one user whose email is its sign-in name
    user_by_username_is_admin: bool = False  # that user is staff or a superuser
    unlinked: bool = False  # a user unlinked this tid + oid: only an explicit link brings it back


@dataclass(frozen=True)
class Policy:
    """The administrator's rules (Sign in with Microsoft settings) and the configured authority."""

    allowed_domains: list[str] = field(default_factory=list)
    allowed_tenants: list[str] = field(default_factory=list)
    authority_tenant: str = ""  # Microsoft Settings' Directory (tenant) ID

    @property
    def multi_tenant(self) -> bool:
        return self.authority_tenant.lower() in MULTI_TENANT_AUTHORITIES


@dataclass(frozen=True)
class Decision:
    user_id: int | None
    link: bool = False  # record the tid + oid for this user (the domain rule)
    refusal: str = ""


def tenant_refusal(tid: str, policy: Policy) -> str:
    """Why an account of directory `tid` may not sign in here, or "" if it may.

    A tenant's own authority only issues tokens whose verified issuer is that tenant, so without a
    list its accounts are the ones allowed; a multi-tenant authority issues tokens for any directory,
    so there only the listed directories are.
    """
    allowed = {t.lower() for t in policy.allowed_tenants}
    if tid.lower() in allowed or (not allowed and not policy.multi_tenant):
        return ""
    if not allowed:
        return ("Sign in with Microsoft accepts no directory yet: Microsoft Settings use "
                f"'{policy.authority_tenant}', and an administrator must list the directories (tenant ids) "
                "whose accounts may sign in on the Sign in with Microsoft settings page.")
    return (f"This Microsoft account belongs to the directory {tid}, whose accounts may not sign in here. "
            "An administrator can allow it on the Sign in with Microsoft settings page.")


def decide(tid: str, oid: str, username: str, policy: Policy, found: Candidates) -> Decision:
    if not tid or not oid:
        return Decision(None, refusal="Microsoft did not say which account signed in (no tid or oid claim).")
    if refusal := tenant_refusal(tid, policy):
        return Decision(None, refusal=refusal)
    if found.linked_user is not None:
        return Decision(found.linked_user)
    if found.unlinked:
        return Decision(None, refusal=UNLINKED)
    domain = username.rpartition("@")[2].lower()
    allowed = {d.strip().lower() for d in policy.allowed_domains if d.strip()}
    if tid == CONSUMER_TENANT or not domain or domain not in allowed or found.user_by_username is None:
        return Decision(None, refusal=NOT_LINKED)
    if found.user_by_username_is_admin:
        return Decision(None, refusal=NOT_LINKED)  # the same words: the page tells no one who is an admin
    return Decision(found.user_by_username, link=True)


NOT_LINKED = ("This Microsoft account is not linked to a user here. Sign in with your username and password, "
              "then link it in My Configuration > Sign-in (administrators always link their accounts there), "
              "or ask an administrator.")
UNLINKED = ("This Microsoft account was unlinked and no longer signs in here by itself. Sign in with your "
            "username and password, then link it again in My Configuration > Sign-in.")


def parse_list(text: str) -> list[str]:
    """Comma-, semicolon- or line-separated entries as administrators type them, lower-cased."""
    return [d.strip().lower() for d in text.replace(";", ",").replace("\n", ",").split(",") if d.strip()]


def parse_domains(text: str) -> list[str]:
    return [d.lstrip("@") for d in parse_list(text)]


def parse_tenants(text: str) -> list[str]:
    return [t.strip("{}") for t in parse_list(text)]
