"""A local HTTPS stand-in for the Microsoft identity platform (login.microsoftonline.com),
which also decides, as Exchange Online does, which mailbox a token may open.

Serves discovery, authorize (a sign-in form), token (authorization code with PKCE, refresh
token with rotation, client credentials), JWKS and admin consent for one tenant.

Exchange's side of the tenant (identity_exchange.py): shared mailboxes (accounts that cannot sign
in: AADSTS50057), Full Access and Send As grants to users or service principals, service
principals registered the way New-ServicePrincipal does, and application permissions that reach
an app's tokens only after admin consent. The test mail stack's Dovecot asks the stand-in about
every XOAUTH2/OAUTHBEARER login and its Postfix about every submitted sender (exchange_service.py);
`exchange_decisions()` tells tests why each was allowed or refused, which mail clients never learn.

The HTTP side lives in identity_http.py, users and token grants in identity_tenant.py, apps in
identity_apps.py, token shapes in identity_tokens.py.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import trustme

from .identity_exchange import ExchangeDecision, ExchangeDirectory, ExchangeRules, decide_login, decide_send_as
from .identity_http import IdentityServer
from .identity_tenant import StandInUser, Tenant
from .identity_tokens import ID_TOKEN_FAULTS, SigningKey

__all__ = ["DEFAULT_TENANT_ID", "ExchangeDecision", "IdentityStandIn", "StandInUser"]

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
        self.access_token_lifetime = DEFAULT_ACCESS_TOKEN_LIFETIME
        self.requests: list[dict[str, Any]] = []
        self.signing_key = SigningKey()
        self.tenant = Tenant(tenant_id, self.signing_key)
        self.exchange = ExchangeDirectory(self._directory_rules)
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
        """The issuer of outlook (v1) access tokens, the one Exchange accepts."""
        return f"https://sts.windows.net/{self.tenant_id}/"

    # -- test set-up -------------------------------------------------------------------

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None) -> None:
        """Register (or replace) an app; redirect_uris None accepts any redirect URI."""
        self.tenant.apps.register_app(client_id, client_secret, redirect_uris)

    def add_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Register a certificate's public part for the app: its client assertions are then accepted."""
        self.tenant.apps.add_certificate(client_id, certificate_pem)

    def expire_secret(self, client_id: str) -> None:
        """From now on the app's secret is refused as expired (AADSTS7000222)."""
        self.tenant.apps.expire_secret(client_id)

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
        """Between tests: drop pending injected faults, restore the token lifetime, and forget
        shared mailboxes, grants, service principals, application permissions and decisions."""
        with self._lock:
            for queue in self._faults.values():
                queue.clear()
        self.access_token_lifetime = DEFAULT_ACCESS_TOKEN_LIFETIME
        self.tenant.forget_shared_mailboxes()
        self.tenant.apps.reset_application_permissions()
        self.exchange.reset()

    # -- Exchange Online's side of the tenant (see identity_exchange.py) -----------------

    def add_shared_mailbox(self, email: str) -> None:
        """A shared mailbox of the directory; a password sign-in as it fails with AADSTS50057.
        MailStack.add_shared_mailbox also creates its mail store."""
        self.tenant.add_shared_mailbox(email)

    def grant_full_access(self, mailbox: str, trustee: str) -> None:
        """Add-MailboxPermission -Identity mailbox -User trustee -AccessRights FullAccess; trustee
        is a user's address or a service principal's ServiceId."""
        self.exchange.grant_full_access(mailbox, trustee)

    def revoke_full_access(self, mailbox: str, trustee: str) -> None:
        """Remove-MailboxPermission -AccessRights FullAccess."""
        self.exchange.revoke_full_access(mailbox, trustee)

    def grant_send_as(self, mailbox: str, trustee: str) -> None:
        """Add-RecipientPermission -Identity mailbox -Trustee trustee -AccessRights SendAs."""
        self.exchange.grant_send_as(mailbox, trustee)

    def revoke_send_as(self, mailbox: str, trustee: str) -> None:
        """Remove-RecipientPermission -AccessRights SendAs."""
        self.exchange.revoke_send_as(mailbox, trustee)

    def enterprise_app_object_id(self, client_id: str) -> str:
        """Enterprise applications > the app > Object ID: the oid of the app's own tokens."""
        return self.tenant.apps.enterprise_app_object_id(client_id)

    def app_object_id(self, client_id: str) -> str:
        """App registrations > the app > Object ID: a different GUID, and the wrong ServiceId."""
        return self.tenant.apps.app_object_id(client_id)

    def register_service_principal(self, app_id: str, service_id: str) -> None:
        """New-ServicePrincipal -AppId app_id -ServiceId service_id. Only the enterprise app's object
        id maps the app's tokens to it; with any other id nothing granted to it applies."""
        self.exchange.register_service_principal(app_id, service_id)

    def set_application_permissions(self, client_id: str, roles: list[str]) -> None:
        """The application permissions the app registration requests (IMAP.AccessAsApp,
        POP.AccessAsApp, SMTP.SendAsApp); its tokens carry them once an admin consented."""
        self.tenant.apps.set_application_permissions(client_id, roles)

    def grant_admin_consent(self, client_id: str) -> None:
        """What an admin's visit to /adminconsent does, for tests that skip the browser."""
        self.tenant.apps.grant_admin_consent(client_id)

    def exchange_decisions(self) -> list[ExchangeDecision]:
        """Every login and sender decision since the last reset(), oldest first:
        (service, user, allowed, reason), service one of imap, pop3, smtp, send-as."""
        return self.exchange.decisions()

    def exchange_login(self, service: str, user: str, token: str) -> ExchangeDecision:
        """Exchange's answer to an XOAUTH2/OAUTHBEARER login (asked by Dovecot's passdb)."""
        decision = decide_login(service, user, token, self.exchange.rules(), time.time())
        return self.exchange.record(decision)

    def exchange_send_as(self, login: str, sender: str) -> ExchangeDecision:
        """Exchange's answer to a submission from `sender` by SASL login `login` (asked by Postfix)."""
        return self.exchange.record(decide_send_as(login, sender, self.exchange.rules()))

    def _directory_rules(self) -> ExchangeRules:
        return ExchangeRules(
            tenant_id=self.tenant_id,
            issuer=self.access_token_issuer,
            public_key=self.signing_key.private_key.public_key(),
            known_addresses=self.tenant.known_addresses(),
        )

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
