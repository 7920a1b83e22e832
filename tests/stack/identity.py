"""A local HTTPS stand-in for the Microsoft identity platform (login.microsoftonline.com).

Serves discovery, authorize (a sign-in form), token (authorization code with PKCE, refresh
token with rotation, client credentials), JWKS and admin consent for one tenant, and writes
its public key where Dovecot's local JWT validation looks for it. The HTTP side lives in
identity_http.py, apps/users/grants in identity_tenant.py, token shapes in identity_tokens.py.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import Any

import trustme

from .identity_http import IdentityServer
from .identity_tenant import StandInUser, Tenant
from .identity_tokens import ID_TOKEN_FAULTS, SigningKey

__all__ = ["DEFAULT_TENANT_ID", "IdentityStandIn", "StandInUser"]

DEFAULT_TENANT_ID = "8f3c2a51-6d0e-4b7a-9c1f-2e5d7a9b4c60"
DEFAULT_ACCESS_TOKEN_LIFETIME = 3600
FAULT_KINDS = ("invalid_client", "consent_required", "redirect_mismatch", "invalid_grant", "server_error")


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
        self.access_token_lifetime = DEFAULT_ACCESS_TOKEN_LIFETIME
        self.requests: list[dict[str, Any]] = []
        self.signing_key = SigningKey()
        self.signing_key.write_dovecot_key(self.keys_dir, "default")
        self.tenant = Tenant(tenant_id, self.signing_key, self.keys_dir)
        self._lock = threading.Lock()
        self._faults: dict[str, deque[str]] = {"authorize": deque(), "token": deque()}
        self._server: IdentityServer | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._server is None:
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
        """The tenant-specific authority URL, as MSAL wants it."""
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def issuer(self) -> str:
        """The v2.0 issuer of the discovery document and of id tokens."""
        return f"{self.authority_host}/{self.tenant_id}/v2.0"

    def issuer_of(self, tenant_id: str) -> str:
        """The v2.0 issuer of a directory's tokens: Microsoft's https://{host}/{tid}/v2.0."""
        return f"{self.authority_host}/{tenant_id}/v2.0"

    @property
    def access_token_issuer(self) -> str:
        """The issuer of outlook (v1) access tokens, which Dovecot is told to accept."""
        return f"https://sts.windows.net/{self.tenant_id}/"

    # -- test set-up -------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None) -> None:
        """Register (or replace) an app; redirect_uris None accepts any redirect URI."""
        self.tenant.register_app(client_id, client_secret, redirect_uris)

    def add_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Register a certificate's public part for the app: its client assertions are then accepted."""
        self.tenant.add_certificate(client_id, certificate_pem)

    def expire_secret(self, client_id: str) -> None:
        """From now on the app's secret is refused as expired (AADSTS7000222)."""
        self.tenant.expire_secret(client_id)

    def add_user(
        self, email: str, password: str, *, name: str = "", oid: str | None = None, tenant_id: str | None = None
    ) -> StandInUser:
        """A user of this directory, or (tenant_id) of another one: such a user signs in only through
        `organizations` or `common`, and their tokens carry their own directory's tid and issuer."""
        return self.tenant.add_user(email, password, name, oid, tenant_id)

    def inject(self, endpoint: str, error: str, count: int = 1) -> None:
        """Make the next `count` requests to endpoint ("authorize" or "token") fail or stall."""
        if endpoint not in self._faults:
            raise ValueError(f"faults can be injected at 'authorize' or 'token', not {endpoint!r}")
        if error.startswith("slow:"):
            float(error.split(":", 1)[1])  # fail here, not inside a request thread
        elif error in ID_TOKEN_FAULTS and endpoint != "token":
            raise ValueError(f"{error!r} is a fault of the token endpoint")
        elif error not in FAULT_KINDS + ID_TOKEN_FAULTS:
            raise ValueError(
                f"unknown error kind {error!r}; one of {FAULT_KINDS + ID_TOKEN_FAULTS} or 'slow:<seconds>'"
            )
        with self._lock:
            self._faults[endpoint].extend([error] * count)

    def reset(self) -> None:
        """Drop pending injected faults and restore the token lifetime (between tests)."""
        with self._lock:
            for queue in self._faults.values():
                queue.clear()
        self.access_token_lifetime = DEFAULT_ACCESS_TOKEN_LIFETIME

    def revoke_refresh_tokens(self, email: str) -> None:
        """Every refresh token of this user issued so far now fails with AADSTS50173."""
        self.tenant.revoke_refresh_tokens(email)

    def issue_access_token(
        self, email: str, client_id: str, *, scopes: list[str] | None = None, lifetime: int | None = None
    ) -> str:
        """A valid outlook token for direct IMAP/POP/SMTP tests (a negative lifetime: expired)."""
        life = self.access_token_lifetime if lifetime is None else lifetime
        return self.tenant.mail_access_token(email, client_id, scopes, life)

    def count(self, endpoint: str, grant_type: str | None = None) -> int:
        """How many requests of this kind were served, e.g. count("token", "refresh_token")."""
        with self._lock:
            return sum(
                1
                for entry in self.requests
                if entry["endpoint"] == endpoint and (grant_type is None or entry["grant_type"] == grant_type)
            )

    # -- used by the HTTP handler --------------------------------------------------------

    def resolve_tenant(self, tenant: str) -> bool:
        aliases = {self.tenant_id.lower(), self.tenant_domain.lower(), "organizations", "common"}
        return tenant.lower() in aliases

    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def take_fault(self, endpoint: str) -> str | None:
        with self._lock:
            queue = self._faults[endpoint]
            return queue.popleft() if queue else None

    def token(
        self, form: dict[str, str], basic: tuple[str, str] | None, id_token_fault: str | None = None,
        tenant: str = "",
    ) -> dict[str, Any]:
        endpoint = f"{self.authority_host}/{tenant or self.tenant_id}/oauth2/v2.0/token"
        return self.tenant.token(form, basic, self.access_token_lifetime, self.issuer_of, id_token_fault, endpoint)
