"""Exchange Online's mailbox access rules, as the identity stand-in applies them.

Exchange decides more than the token's signature: whose mailbox a token may open, and as whom
it may send. The directory below holds what an Exchange admin sets up with PowerShell:

- shared mailboxes (accounts that cannot sign in);
- Full Access (``Add-MailboxPermission -AccessRights FullAccess``) and Send As
  (``Add-RecipientPermission -AccessRights SendAs``), granted to a user or a service principal;
- service principals (``New-ServicePrincipal -AppId <client id> -ServiceId <object id>``): an app's
  tokens map to one only when its ServiceId is the object id of the app's *enterprise application*
  (the ``oid`` of its tokens), not the app registration's object id.

Dovecot's passdb hands every XOAUTH2/OAUTHBEARER login (service, user, token) to the stand-in,
and Postfix's policy service asks it about each submitted sender. The decisions are the pure
functions ``decide_login`` and ``decide_send_as``; each keeps its reason so tests can read why
a login was refused, while the mail client only sees the server's generic failure, as with Exchange.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

# The audiences Exchange Online accepts for IMAP, POP and SMTP (delegated tokens carry the
# first, client-credential tokens for outlook.office365.com/.default the second).
MAIL_AUDIENCES = ("https://outlook.office.com", "https://outlook.office365.com")
DELEGATED_SCOPES = {"imap": "IMAP.AccessAsUser.All", "pop3": "POP.AccessAsUser.All", "smtp": "SMTP.Send"}
APP_ROLES = {"imap": "IMAP.AccessAsApp", "pop3": "POP.AccessAsApp", "smtp": "SMTP.SendAsApp"}
APPLICATION_PERMISSIONS = frozenset(APP_ROLES.values())


class ExchangeDecision(NamedTuple):
    """One decision: the service (imap, pop3, smtp, or send-as for a submitted sender), the
    mailbox asked for, whether it was allowed, and why."""

    service: str
    user: str
    allowed: bool
    reason: str


@dataclass(frozen=True)
class ExchangeRules:
    """What a decision needs to know, as one consistent snapshot of the directory."""

    tenant_id: str
    issuer: str  # the iss of this directory's outlook access tokens
    public_key: RSAPublicKey  # the stand-in's token signing key
    full_access: frozenset[tuple[str, str]] = frozenset()  # (mailbox, trustee), lowercased
    send_as: frozenset[tuple[str, str]] = frozenset()  # (mailbox, trustee), lowercased
    service_principals: tuple[tuple[str, str], ...] = ()  # (app id, service id), lowercased
    known_addresses: frozenset[str] = frozenset()  # the directory's users and shared mailboxes

    def service_id_of(self, app_id: str) -> str | None:
        """The ServiceId registered for the app; GUIDs compare case-insensitively."""
        for registered_app, service_id in self.service_principals:
            if registered_app.lower() == app_id.lower():
                return service_id.lower()
        return None


def decide_login(service: str, user: str, token: str, rules: ExchangeRules, now: float) -> ExchangeDecision:
    """May `token` log in to `service` (imap, pop3, smtp) as mailbox `user`? Exchange's answer."""

    def refuse(reason: str) -> ExchangeDecision:
        return ExchangeDecision(service, user, False, reason)

    if service not in DELEGATED_SCOPES:
        return refuse(f"service {service!r} does not take OAuth logins (imap, pop3 or smtp)")
    claims, problem = _valid_claims(token, rules, now)
    if claims is None:
        return refuse(problem)
    mailbox = user.strip().lower()
    if "scp" in claims:
        return _decide_delegated(service, user, mailbox, claims, rules)
    if claims.get("roles"):
        return _decide_app_only(service, user, mailbox, claims, rules)
    if claims.get("idtyp") == "app":
        return refuse(
            f"app-only token of app {claims.get('appid')} carries no roles: none of "
            f"{', '.join(sorted(APPLICATION_PERMISSIONS))} has admin consent"
        )
    return refuse("token carries neither scp (delegated) nor roles (application permissions)")


def decide_send_as(login: str, sender: str, rules: ExchangeRules) -> ExchangeDecision:
    """May the SASL login `login` submit mail with envelope sender `sender`?"""
    who, address = login.strip().lower(), sender.strip().lower()
    if not address or address == who:
        return ExchangeDecision("send-as", sender, True, "the sender is the login's own mailbox")
    if address not in rules.known_addresses:
        return ExchangeDecision("send-as", sender, True, "the sender is not a mailbox of this directory")
    if (address, who) in rules.send_as:
        return ExchangeDecision("send-as", sender, True, f"{login} holds Send As on {sender}")
    return ExchangeDecision("send-as", sender, False, f"{login} holds no Send As on {sender}: SendAsDenied")


def send_as_denied_reply(login: str, sender: str) -> str:
    """Exchange Online's answer when a login submits mail from an address it may not send as."""
    return (
        f"554 5.2.252 SendAsDenied; {login} not allowed to send as {sender}; "
        "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"
    )


def _valid_claims(token: str, rules: ExchangeRules, now: float) -> tuple[dict[str, Any] | None, str]:
    """The token's claims if it is the stand-in's own, current, of this tenant and for Exchange."""
    try:
        # Time and audience are checked below against `now`, so the decision stays pure.
        claims: dict[str, Any] = jwt.decode(
            token,
            rules.public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
        )
    except jwt.InvalidSignatureError:
        return None, "token signature is not the identity platform's"
    except jwt.PyJWTError as exc:
        return None, f"not a valid JWT ({type(exc).__name__})"
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        return None, "token expired"
    if isinstance(claims.get("nbf"), int) and claims["nbf"] > now:
        return None, "token not yet valid (nbf in the future)"
    if claims.get("tid") != rules.tenant_id or claims.get("iss") != rules.issuer:
        return None, f"token of another directory (tid {claims.get('tid')})"
    if claims.get("aud") not in MAIL_AUDIENCES:
        return None, f"token audience {claims.get('aud')!r} is not Exchange Online"
    return claims, ""


def _decide_delegated(
    service: str, user: str, mailbox: str, claims: dict[str, Any], rules: ExchangeRules
) -> ExchangeDecision:
    owner = str(claims.get("upn") or claims.get("unique_name") or "").lower()
    needed = DELEGATED_SCOPES[service]
    if needed not in str(claims["scp"]).split():
        return ExchangeDecision(service, user, False, f"delegated token of {owner} lacks scope {needed}")
    if mailbox == owner:
        return ExchangeDecision(service, user, True, f"{owner} opens their own mailbox")
    if service == "smtp":
        # Exchange answers 535 5.7.3: SMTP AUTH is always as the token's owner; sending as a
        # shared address goes through MAIL FROM and Send As.
        return ExchangeDecision(
            service, user, False, f"SMTP AUTH as {user} with {owner}'s token: user= must be the token's owner"
        )
    if (mailbox, owner) in rules.full_access:
        return ExchangeDecision(service, user, True, f"{owner} holds Full Access on {user}")
    return ExchangeDecision(service, user, False, f"{owner} holds no Full Access on {user}")


def _decide_app_only(
    service: str, user: str, mailbox: str, claims: dict[str, Any], rules: ExchangeRules
) -> ExchangeDecision:
    app_id = str(claims.get("appid", ""))
    oid = str(claims.get("oid", "")).lower()
    needed = APP_ROLES[service]
    if needed not in claims["roles"]:
        return ExchangeDecision(service, user, False, f"app-only token of app {app_id} lacks role {needed}")
    service_id = rules.service_id_of(app_id)
    if service_id is None:
        return ExchangeDecision(
            service, user, False, f"no service principal registered for app {app_id} (New-ServicePrincipal)"
        )
    if service_id != oid:
        return ExchangeDecision(
            service, user, False,
            f"the service principal of app {app_id} has ServiceId {service_id}, but the app's tokens carry "
            f"oid {oid} (the enterprise application's object id)",
        )
    if service == "smtp":
        if (mailbox, service_id) in rules.send_as:
            return ExchangeDecision(service, user, True, f"service principal {service_id} holds Send As on {user}")
        return ExchangeDecision(service, user, False, f"service principal {service_id} holds no Send As on {user}")
    if (mailbox, service_id) in rules.full_access:
        return ExchangeDecision(service, user, True, f"service principal {service_id} holds Full Access on {user}")
    return ExchangeDecision(service, user, False, f"service principal {service_id} holds no Full Access on {user}")


class ExchangeDirectory:
    """The Exchange side of the tenant: grants and service principals, plus the decision log.

    `snapshot` supplies the parts owned by the rest of the stand-in (key, issuer, accounts).
    """

    def __init__(self, snapshot: Callable[[], ExchangeRules]) -> None:
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self._full_access: set[tuple[str, str]] = set()
        self._send_as: set[tuple[str, str]] = set()
        self._service_principals: dict[str, str] = {}
        self._decisions: list[ExchangeDecision] = []

    def grant_full_access(self, mailbox: str, trustee: str) -> None:
        with self._lock:
            self._full_access.add(_pair(mailbox, trustee))

    def revoke_full_access(self, mailbox: str, trustee: str) -> None:
        with self._lock:
            self._full_access.discard(_pair(mailbox, trustee))

    def grant_send_as(self, mailbox: str, trustee: str) -> None:
        with self._lock:
            self._send_as.add(_pair(mailbox, trustee))

    def revoke_send_as(self, mailbox: str, trustee: str) -> None:
        with self._lock:
            self._send_as.discard(_pair(mailbox, trustee))

    def register_service_principal(self, app_id: str, service_id: str) -> None:
        with self._lock:
            self._service_principals[app_id.strip().lower()] = service_id.strip().lower()

    def rules(self) -> ExchangeRules:
        base = self._snapshot()
        with self._lock:
            return ExchangeRules(
                tenant_id=base.tenant_id,
                issuer=base.issuer,
                public_key=base.public_key,
                full_access=frozenset(self._full_access),
                send_as=frozenset(self._send_as),
                service_principals=tuple(sorted(self._service_principals.items())),
                known_addresses=base.known_addresses,
            )

    def record(self, decision: ExchangeDecision) -> ExchangeDecision:
        with self._lock:
            self._decisions.append(decision)
        return decision

    def decisions(self) -> list[ExchangeDecision]:
        with self._lock:
            return list(self._decisions)

    def reset(self) -> None:
        with self._lock:
            self._full_access.clear()
            self._send_as.clear()
            self._service_principals.clear()
            self._decisions.clear()


def _pair(mailbox: str, trustee: str) -> tuple[str, str]:
    return mailbox.strip().lower(), trustee.strip().lower()
