"""The stand-in's directory (users, shared mailboxes; apps in identity_apps.py) and its token grants.

Everything here is guarded by one lock because the HTTP server answers in many threads.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .identity_apps import App, AppDirectory
from .identity_tokens import (
    DEFAULT_MAIL_SCOPES,
    OUTLOOK_RESOURCE,
    OAuthError,
    ScopeRequest,
    SigningKey,
    Subject,
    access_token_claims,
    client_info,
    hostile_id_token,
    id_token_claims,
    injected_error,
    parse_scopes,
    stable_guid,
)

CODE_LIFETIME = 600
ID_TOKEN_LIFETIME = 3600


@dataclass
class StandInUser:
    email: str
    password: str
    name: str
    oid: str
    tid: str
    can_sign_in: bool = True  # False for a shared mailbox: its account is disabled


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str
    email: str
    issued: float
    used: bool = False


@dataclass
class _Refresh:
    email: str
    client_id: str
    scope: str
    generation: int
    used: bool = False


def _malformed() -> OAuthError:
    return OAuthError(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")


class Tenant:
    def __init__(self, tenant_id: str, signing_key: SigningKey) -> None:
        self.tenant_id = tenant_id
        self.signing_key = signing_key
        self._lock = threading.RLock()
        self.apps = AppDirectory(tenant_id, signing_key)
        self._users: dict[str, StandInUser] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._generation: dict[str, int] = {}  # bumped by revoke_refresh_tokens

    # -- directory -----------------------------------------------------------------------

    def add_user(
        self, email: str, password: str, name: str, oid: str | None, tenant_id: str | None = None
    ) -> StandInUser:
        tid = tenant_id or self.tenant_id
        user = StandInUser(
            email=email,
            password=password,
            name=name or email.split("@")[0].replace(".", " ").title(),
            oid=oid or stable_guid("user", tid, email.lower()),
            tid=tid,
        )
        with self._lock:
            self._users[email.lower()] = user
        return user

    def add_shared_mailbox(self, email: str) -> StandInUser:
        """A shared mailbox's account: it exists, but no one can sign in as it."""
        user = self.add_user(email, secrets.token_urlsafe(24), "", None)
        user.can_sign_in = False
        return user

    def forget_shared_mailboxes(self) -> None:
        with self._lock:
            for key in [key for key, user in self._users.items() if not user.can_sign_in]:
                del self._users[key]

    def account_disabled(self, email: str) -> bool:
        with self._lock:
            user = self._users.get(email.strip().lower())
        return user is not None and not user.can_sign_in

    def known_addresses(self) -> frozenset[str]:
        """The mailboxes of this directory (users and shared mailboxes), lowercased."""
        with self._lock:
            return frozenset(key for key, user in self._users.items() if user.tid == self.tenant_id)

    def revoke_refresh_tokens(self, email: str) -> None:
        with self._lock:
            key = email.lower()
            self._generation[key] = self._generation.get(key, 0) + 1

    def check_password(self, email: str, password: str) -> StandInUser | None:
        with self._lock:
            user = self._users.get(email.strip().lower())
        if user is None or not user.can_sign_in:
            return None
        if not secrets.compare_digest(user.password.encode(), password.encode()):
            return None
        return user

    def user_exists(self, email: str) -> bool:
        with self._lock:
            return email.strip().lower() in self._users

    def subject(self, email: str) -> Subject:
        with self._lock:
            user = self._users.get(email.lower())
        if user is not None:
            return Subject(user.email, user.name, user.oid, user.tid)
        # Unknown users still get a consistent identity, e.g. for wrong-user IMAP tests.
        oid = stable_guid("user", self.tenant_id, email.lower())
        return Subject(email, email.split("@")[0], oid, self.tenant_id)

    # -- tokens --------------------------------------------------------------------------

    def mail_access_token(self, email: str, client_id: str, scopes: list[str] | None, lifetime: int) -> str:
        if self.account_disabled(email):
            raise ValueError(f"{email} is a shared mailbox: nobody signs in as it, so it has no tokens of its "
                             "own; issue a delegate's token (user= the shared address) or an app-only token")
        names = tuple(scopes) if scopes is not None else DEFAULT_MAIL_SCOPES
        request = ScopeRequest(OUTLOOK_RESOURCE, names, ())
        return self.signing_key.sign(access_token_claims(self.subject(email), client_id, request, lifetime))

    def create_code(self, params: dict[str, str], user: StandInUser) -> str:
        code = "1.AQ" + secrets.token_urlsafe(96)
        with self._lock:
            self._codes[code] = _Code(
                client_id=params["client_id"],
                redirect_uri=params.get("redirect_uri", ""),
                scope=params.get("scope", ""),
                nonce=params.get("nonce"),
                code_challenge=params.get("code_challenge"),
                code_challenge_method=params.get("code_challenge_method", "plain"),
                email=user.email,
                issued=time.time(),
            )
        return code

    def token(
        self,
        form: dict[str, str],
        basic: tuple[str, str] | None,
        lifetime: int,
        issuer_of: Callable[[str], str],
        id_token_fault: str | None = None,
        token_endpoint: str = "",
    ) -> dict[str, Any]:
        """Answer a token request; raise OAuthError for an error answer."""
        grant_type = form.get("grant_type", "")
        client_id = form.get("client_id") or (basic[0] if basic else "")
        secret = form.get("client_secret") or (basic[1] if basic else None)
        app = self.apps.app(client_id)
        self.apps.check_credential(app, form, secret, token_endpoint)
        if grant_type == "authorization_code":
            email, scope, nonce = self._redeem_code(app, form)
        elif grant_type == "refresh_token":
            email, scope, nonce = self._redeem_refresh(app, form)
        elif grant_type == "client_credentials":
            return self.apps.app_token(app, form, lifetime)
        else:
            raise OAuthError(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
            )
        return self._user_tokens(app.client_id, email, scope, nonce, lifetime, issuer_of, id_token_fault)

    def _redeem_code(self, app: App, form: dict[str, str]) -> tuple[str, str, str | None]:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None:
                raise _malformed()
            if code.used:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use "
                    "an existing refresh token.",
                )
            if time.time() - code.issued > CODE_LIFETIME:
                raise injected_error("invalid_grant", app.client_id)
            if code.client_id != app.client_id:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    700005,
                    "Provided Authorization Code is intended to use against other tenant or app.",
                )
            redirect_uri = form.get("redirect_uri", "")
            if redirect_uri != code.redirect_uri:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    500112,
                    f"The reply address '{redirect_uri}' does not match the reply address "
                    f"'{code.redirect_uri}' provided when requesting Authorization code.",
                )
            if code.code_challenge and not _pkce_ok(code, form.get("code_verifier", "")):
                raise OAuthError(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                )
            code.used = True
        # The token request's scope wins, as MSAL repeats it; the code's scope is the fallback.
        return code.email, form.get("scope") or code.scope, code.nonce

    def _redeem_refresh(self, app: App, form: dict[str, str]) -> tuple[str, str, None]:
        with self._lock:
            record = self._refresh.get(form.get("refresh_token", ""))
            if record is None:
                raise _malformed()
            if record.generation < self._generation.get(record.email.lower(), 0):
                raise OAuthError(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
                    "The user might have changed or reset their password.",
                )
            if record.used:
                raise injected_error("invalid_grant", app.client_id)
            if record.client_id != app.client_id:
                raise OAuthError(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
            record.used = True  # rotation: the answer carries the only valid successor
        scope = form.get("scope") or record.scope
        if "offline_access" in record.scope.split() and "offline_access" not in scope.split():
            scope += " offline_access"
        return record.email, scope, None

    def _user_tokens(
        self,
        client_id: str,
        email: str,
        scope: str,
        nonce: str | None,
        lifetime: int,
        issuer_of: Callable[[str], str],
        id_token_fault: str | None,
    ) -> dict[str, Any]:
        request = parse_scopes(scope)
        subject = self.subject(email)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": request.echoed,
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self.signing_key.sign(access_token_claims(subject, client_id, request, lifetime)),
        }
        if "offline_access" in request.reserved:
            refresh = "1.AR" + secrets.token_urlsafe(180)
            with self._lock:
                generation = self._generation.get(subject.email.lower(), 0)
                self._refresh[refresh] = _Refresh(subject.email, client_id, scope, generation)
            answer["refresh_token"] = refresh
        if "openid" in request.reserved:
            # Each directory's tokens name its own issuer, whichever endpoint issued them.
            claims = id_token_claims(subject, client_id, issuer_of(subject.tid), nonce, ID_TOKEN_LIFETIME)
            if id_token_fault is not None:
                answer["id_token"] = hostile_id_token(self.signing_key, claims, id_token_fault)
            else:
                answer["id_token"] = self.signing_key.sign(claims)
        answer["client_info"] = client_info(subject.oid, subject.tid)
        return answer


def _pkce_ok(code: _Code, verifier: str) -> bool:
    if not verifier:
        return False
    if code.code_challenge_method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return secrets.compare_digest(computed.encode(), (code.code_challenge or "").encode())
