"""The stand-in's directory (apps, users) and its token grants.

Everything here is guarded by one lock because the HTTP server answers in many threads.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from .identity_assertion import check_client_assertion
from .identity_tokens import (
    DEFAULT_MAIL_SCOPES,
    OUTLOOK_RESOURCE,
    OAuthError,
    ScopeRequest,
    SigningKey,
    Subject,
    access_token_claims,
    app_token_claims,
    client_info,
    hostile_id_token,
    id_token_claims,
    injected_error,
    parse_scopes,
    stable_guid,
    unknown_client,
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


@dataclass
class App:
    client_id: str
    client_secret: str  # "" and no certificates registers a public client (no credential is checked)
    redirect_uris: list[str] | None  # None accepts any redirect URI
    certificates: list[x509.Certificate] = field(default_factory=list)  # public parts, as Azure holds them
    secret_expired: bool = False

    @property
    def confidential(self) -> bool:
        return bool(self.client_secret or self.certificates)


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
    def __init__(self, tenant_id: str, signing_key: SigningKey, keys_dir: Path) -> None:
        self.tenant_id = tenant_id
        self.signing_key = signing_key
        self.keys_dir = keys_dir
        self._lock = threading.RLock()
        self._apps: dict[str, App] = {}
        self._users: dict[str, StandInUser] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._generation: dict[str, int] = {}  # bumped by revoke_refresh_tokens

    # -- directory -----------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str] | None) -> None:
        with self._lock:
            uris = list(redirect_uris) if redirect_uris is not None else None
            self._apps[client_id] = App(client_id, client_secret, uris)
        # Tokens carry azp = client id, and Dovecot looks up the key under that name.
        self.signing_key.write_dovecot_key(self.keys_dir, "default")
        self.signing_key.write_dovecot_key(self.keys_dir, client_id)

    def add_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Azure's Certificates & secrets > Upload certificate: the public part only."""
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
        with self._lock:
            self.app(client_id).certificates.append(certificate)

    def expire_secret(self, client_id: str) -> None:
        with self._lock:
            self.app(client_id).secret_expired = True

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

    def revoke_refresh_tokens(self, email: str) -> None:
        with self._lock:
            key = email.lower()
            self._generation[key] = self._generation.get(key, 0) + 1

    def app(self, client_id: str) -> App:
        with self._lock:
            app = self._apps.get(client_id)
        if app is None:
            raise unknown_client(client_id, self.tenant_id)
        return app

    @staticmethod
    def redirect_allowed(app: App, redirect_uri: str) -> bool:
        return app.redirect_uris is None or redirect_uri in app.redirect_uris

    def check_password(self, email: str, password: str) -> StandInUser | None:
        with self._lock:
            user = self._users.get(email.strip().lower())
        if user is None or not secrets.compare_digest(user.password.encode(), password.encode()):
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
        names = tuple(scopes) if scopes is not None else DEFAULT_MAIL_SCOPES
        request = ScopeRequest(OUTLOOK_RESOURCE, names, ())
        self.signing_key.write_dovecot_key(self.keys_dir, client_id)
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
        app = self.app(client_id)
        if form.get("client_assertion"):
            with self._lock:
                registered = list(app.certificates)
            check_client_assertion(form, app.client_id, registered, token_endpoint)
        else:
            self._check_secret(app, secret, required=grant_type == "client_credentials")
        if grant_type == "authorization_code":
            email, scope, nonce = self._redeem_code(app, form)
        elif grant_type == "refresh_token":
            email, scope, nonce = self._redeem_refresh(app, form)
        elif grant_type == "client_credentials":
            return self._app_token(app, form, lifetime)
        else:
            raise OAuthError(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant_type}'."
            )
        return self._user_tokens(app.client_id, email, scope, nonce, lifetime, issuer_of, id_token_fault)

    def _check_secret(self, app: App, secret: str | None, *, required: bool) -> None:
        if not app.confidential and not required:
            return
        if not secret:
            raise OAuthError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        if not secrets.compare_digest(secret.encode(), app.client_secret.encode()):
            raise injected_error("invalid_client", app.client_id)
        if app.secret_expired:
            raise OAuthError(
                401, "invalid_client", 7000222,
                f"The provided client secret keys for app '{app.client_id}' are expired. Visit the Azure portal "
                "to create new keys for your app or consider using certificate credentials for added security.",
            )

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

    def _app_token(self, app: App, form: dict[str, str], lifetime: int) -> dict[str, Any]:
        scope = form.get("scope", "").strip()
        if len(scope.split()) != 1 or not scope.endswith("/.default"):
            raise OAuthError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a scope "
                "value with /.default suffixed to the resource identifier (application ID URI).",
            )
        resource = scope[: -len("/.default")]
        claims = app_token_claims(app.client_id, self.tenant_id, resource, lifetime)
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self.signing_key.sign(claims),
        }

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
        self.signing_key.write_dovecot_key(self.keys_dir, client_id)
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
