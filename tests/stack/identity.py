"""A local HTTPS stand-in for the Microsoft identity platform (login.microsoftonline.com).

Serves discovery, authorize (a sign-in form), token (authorization code with PKCE, refresh
token with rotation, client credentials), JWKS and admin consent for one tenant, and writes
its public key where Dovecot's local JWT validation looks for it. The HTTP side lives in
identity_http.py; the token shapes in identity_tokens.py.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from .identity_http import IdentityServer
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
    id_token_claims,
    injected_error,
    parse_scopes,
    stable_guid,
    unknown_client,
)

DEFAULT_TENANT_ID = "8f3c2a51-6d0e-4b7a-9c1f-2e5d7a9b4c60"
CODE_LIFETIME = 600
FAULT_KINDS = ("invalid_client", "consent_required", "redirect_mismatch", "invalid_grant",
               "server_error")


@dataclass
class StandInUser:
    email: str
    password: str
    name: str
    oid: str
    tid: str


@dataclass
class _App:
    client_id: str
    client_secret: str  # "" registers a public client (no secret is checked)
    redirect_uris: list[str] | None


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


class IdentityStandIn:
    def __init__(
        self,
        workdir: Path,
        ca: trustme.CA,
        tenant_id: str = DEFAULT_TENANT_ID,
        tenant_domain: str = "example.test",
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca = ca
        self.tenant_id = tenant_id
        self.tenant_domain = tenant_domain
        self.ca_file = self.workdir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.keys_dir = self.workdir / "keys"
        self.access_token_lifetime = 3600
        self.requests: list[dict[str, Any]] = []
        self.signing_key = SigningKey()
        self.signing_key.write_dovecot_key(self.keys_dir, "default")
        self._lock = threading.RLock()
        self._apps: dict[str, _App] = {}
        self._users: dict[str, StandInUser] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._generation: dict[str, int] = {}  # bumped by revoke_refresh_tokens
        self._faults: dict[str, deque[str]] = {"authorize": deque(), "token": deque()}
        self._server: IdentityServer | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = IdentityServer(self, self.ca)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("IdentityStandIn is not started")
        return self._server.port

    @property
    def authority_host(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        """The tenant-specific authority URL for MSAL."""
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def issuer(self) -> str:
        """The v2.0 issuer of discovery and id tokens."""
        return f"{self.authority_host}/{self.tenant_id}/v2.0"

    @property
    def access_token_issuer(self) -> str:
        """The issuer of outlook access tokens (v1 tokens), as Dovecot must be told."""
        return f"https://sts.windows.net/{self.tenant_id}/"

    # -- test set-up -------------------------------------------------------------------

    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None
    ) -> None:
        with self._lock:
            uris = list(redirect_uris) if redirect_uris is not None else None
            self._apps[client_id] = _App(client_id, client_secret, uris)
        # Tokens carry azp = client id, and Dovecot looks up the key under that name.
        self.signing_key.write_dovecot_key(self.keys_dir, "default")
        self.signing_key.write_dovecot_key(self.keys_dir, client_id)

    def add_user(
        self, email: str, password: str, *, name: str = "", oid: str | None = None
    ) -> StandInUser:
        user = StandInUser(
            email=email,
            password=password,
            name=name or email.split("@")[0].replace(".", " ").title(),
            oid=oid or stable_guid("user", self.tenant_id, email.lower()),
            tid=self.tenant_id,
        )
        with self._lock:
            self._users[email.lower()] = user
        return user

    def inject(self, endpoint: str, error: str, count: int = 1) -> None:
        if endpoint not in self._faults:
            raise ValueError(f"faults can be injected at 'authorize' or 'token', not {endpoint!r}")
        if error not in FAULT_KINDS and not error.startswith("slow:"):
            raise ValueError(f"unknown error kind {error!r}")
        if error.startswith("slow:"):
            float(error.split(":", 1)[1])  # fail here, not inside a request thread
        with self._lock:
            self._faults[endpoint].extend([error] * count)

    def revoke_refresh_tokens(self, email: str) -> None:
        with self._lock:
            key = email.lower()
            self._generation[key] = self._generation.get(key, 0) + 1

    def issue_access_token(
        self,
        email: str,
        client_id: str,
        *,
        scopes: list[str] | None = None,
        lifetime: int | None = None,
    ) -> str:
        """A valid outlook token for direct IMAP/POP/SMTP tests (lifetime < 0: expired)."""
        names = scopes if scopes is not None else list(DEFAULT_MAIL_SCOPES)
        request = ScopeRequest(OUTLOOK_RESOURCE, tuple(names), ())
        self.signing_key.write_dovecot_key(self.keys_dir, client_id)
        life = self.access_token_lifetime if lifetime is None else lifetime
        claims = access_token_claims(self._subject(email), client_id, request, life)
        return self.signing_key.sign(claims)

    def count(self, endpoint: str, grant_type: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r["endpoint"] == endpoint and (grant_type is None or r["grant_type"] == grant_type)
            )

    # -- used by the HTTP handler --------------------------------------------------------

    def resolve_tenant(self, tenant: str) -> bool:
        return tenant.lower() in {
            self.tenant_id.lower(),
            self.tenant_domain.lower(),
            "organizations",
            "common",
        }

    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def take_fault(self, endpoint: str) -> str | None:
        with self._lock:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def app(self, client_id: str) -> _App:
        with self._lock:
            app = self._apps.get(client_id)
        if app is None:
            raise unknown_client(client_id, self.tenant_id)
        return app

    def redirect_allowed(self, app: _App, redirect_uri: str) -> bool:
        return app.redirect_uris is None or redirect_uri in app.redirect_uris

    def check_password(self, email: str, password: str) -> StandInUser | None:
        with self._lock:
            user = self._users.get(email.strip().lower())
        if user is None or not secrets.compare_digest(user.password, password):
            return None
        return user

    def user_exists(self, email: str) -> bool:
        with self._lock:
            return email.strip().lower() in self._users

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

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """Answer a token request; raise OAuthError for an error answer."""
        grant_type = form.get("grant_type", "")
        client_id = form.get("client_id") or (basic[0] if basic else "")
        secret = form.get("client_secret") or (basic[1] if basic else None)
        app = self.app(client_id)
        self._check_secret(app, secret, required=grant_type == "client_credentials")
        if grant_type == "authorization_code":
            return self._grant_code(app, form)
        if grant_type == "refresh_token":
            return self._grant_refresh(app, form)
        if grant_type == "client_credentials":
            return self._grant_client_credentials(app, form)
        raise OAuthError(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant_type}'.",
        )

    def fault_error(self, kind: str, client_id: str, redirect_uri: str = "") -> OAuthError:
        return injected_error(kind, client_id, redirect_uri)

    # -- grants --------------------------------------------------------------------------

    def _check_secret(self, app: _App, secret: str | None, *, required: bool) -> None:
        if not app.client_secret and not required:
            return
        if not secret:
            raise OAuthError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        if not secrets.compare_digest(secret, app.client_secret):
            raise injected_error("invalid_client", app.client_id)

    def _grant_code(self, app: _App, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None:
                raise OAuthError(
                    400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
                )
            if code.used:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    54005,
                    "OAuth2 Authorization code was already redeemed, please retry with a new "
                    "valid code or use an existing refresh token.",
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
                    "The Code_Verifier does not match the code_challenge supplied in the "
                    "authorization request.",
                )
            code.used = True
        # The token request's scope wins, as MSAL repeats it; the code's scope is the fallback.
        scope = form.get("scope") or code.scope
        return self._user_tokens(app.client_id, code.email, scope, code.nonce)

    def _grant_refresh(self, app: _App, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            record = self._refresh.get(form.get("refresh_token", ""))
            if record is None:
                raise OAuthError(
                    400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
                )
            if record.generation < self._generation.get(record.email.lower(), 0):
                raise OAuthError(
                    400,
                    "invalid_grant",
                    50173,
                    "The provided grant has expired due to it being revoked, a fresh auth token "
                    "is needed. The user might have changed or reset their password.",
                )
            if record.used:
                raise injected_error("invalid_grant", app.client_id)
            if record.client_id != app.client_id:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    70000,
                    "Provided grant is invalid or malformed.",
                )
            record.used = True  # rotation: the answer carries the only valid successor
        scope = form.get("scope") or record.scope
        if "offline_access" in record.scope.split() and "offline_access" not in scope.split():
            scope += " offline_access"
        return self._user_tokens(app.client_id, record.email, scope, None)

    def _grant_client_credentials(self, app: _App, form: dict[str, str]) -> dict[str, Any]:
        scope = form.get("scope", "").strip()
        if len(scope.split()) != 1 or not scope.endswith("/.default"):
            raise OAuthError(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI).",
            )
        resource = scope[: -len("/.default")]
        life = self.access_token_lifetime
        claims = app_token_claims(app.client_id, self.tenant_id, resource, life)
        return {
            "token_type": "Bearer",
            "expires_in": life,
            "ext_expires_in": life,
            "access_token": self.signing_key.sign(claims),
        }

    def _user_tokens(
        self, client_id: str, email: str, scope: str, nonce: str | None
    ) -> dict[str, Any]:
        request = parse_scopes(scope)
        subject = self._subject(email)
        life = self.access_token_lifetime
        self.signing_key.write_dovecot_key(self.keys_dir, client_id)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": request.echoed,
            "expires_in": life,
            "ext_expires_in": life,
            "access_token": self.signing_key.sign(
                access_token_claims(subject, client_id, request, life)
            ),
        }
        if "offline_access" in request.reserved:
            refresh = "1.AR" + secrets.token_urlsafe(180)
            with self._lock:
                self._refresh[refresh] = _Refresh(
                    email=subject.email,
                    client_id=client_id,
                    scope=scope,
                    generation=self._generation.get(subject.email.lower(), 0),
                )
            answer["refresh_token"] = refresh
        if "openid" in request.reserved:
            answer["id_token"] = self.signing_key.sign(
                id_token_claims(subject, client_id, self.issuer, nonce, 3600)
            )
        answer["client_info"] = client_info(subject.oid, subject.tid)
        return answer

    def _subject(self, email: str) -> Subject:
        with self._lock:
            user = self._users.get(email.lower())
        if user is not None:
            return Subject(user.email, user.name, user.oid, user.tid)
        # Unknown users still get a consistent identity, e.g. for wrong-user IMAP tests.
        oid = stable_guid("user", self.tenant_id, email.lower())
        return Subject(email, email.split("@")[0], oid, self.tenant_id)


def _pkce_ok(code: _Code, verifier: str) -> bool:
    if not verifier:
        return False
    if code.code_challenge_method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return secrets.compare_digest(computed, code.code_challenge or "")
