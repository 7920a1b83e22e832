"""Which user a Microsoft account signs in as: pure rules, tested without a server.

Never by the `email` claim: any tenant can put any address there (the "nOAuth" takeover class).
An account signs in as a user it is linked to (its `tid` + `oid`), or as the owner of an Office 365
mailbox connected with that account (the owner proved it while signed in here). A first sign-in
without either links the account only by its sign-in name (`preferred_username`, the UPN, whose
domain its directory has verified), only in a domain the administrator allowed, and never for
personal Microsoft accounts, whose sign-in names nobody verified for a directory.
"""

from __future__ import annotations

from dataclasses import dataclass

# The directory of personal Microsoft accounts (outlook.com, hotmail.com, ...).
CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


@dataclass(frozen=True)
class Candidates:
    """What the database knows about the account that signed in."""

    linked_user: int | None = None  # a MicrosoftLogin with its tid + oid
    mailbox_owner: int | None = None  # the owner of a mailbox connected with its tid + oid
    user_by_username: int | None = None  # the one user whose email is its sign-in name


@dataclass(frozen=True)
class Decision:
    user_id: int | None
    link: bool = False  # record the tid + oid for this user
    refusal: str = ""


def decide(tid: str, oid: str, username: str, allowed_domains: list[str], found: Candidates) -> Decision:
    if not tid or not oid:
        return Decision(None, refusal="Microsoft did not say which account signed in (no tid or oid claim).")
    if found.linked_user is not None:
        return Decision(found.linked_user)
    if found.mailbox_owner is not None:
        return Decision(found.mailbox_owner, link=True)
    domain = username.rpartition("@")[2].lower()
    allowed = {d.strip().lower() for d in allowed_domains if d.strip()}
    if tid == CONSUMER_TENANT or not domain or domain not in allowed or found.user_by_username is None:
        return Decision(None, refusal=NOT_LINKED)
    return Decision(found.user_by_username, link=True)


NOT_LINKED = ("This Microsoft account is not linked to a user here. Sign in with your username and password, "
              "then link it in My Configuration > Sign-in, or ask an administrator.")


def parse_domains(text: str) -> list[str]:
    return [d.strip().lower().lstrip("@") for d in text.replace(";", ",").replace("\n", ",").split(",") if d.strip()]
