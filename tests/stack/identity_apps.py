"""The stand-in's app registrations: credentials, redirect URIs, application permissions and
admin consent, the two object ids Azure shows for one app, and client-credential tokens.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from .identity_assertion import check_client_assertion
from .identity_exchange import APPLICATION_PERMISSIONS, MAIL_AUDIENCES
from .identity_tokens import OAuthError, SigningKey, app_token_claims, injected_error, stable_guid, unknown_client


@dataclass
class App:
    client_id: str
    client_secret: str  # "" and no certificates registers a public client (no credential is checked)
    redirect_uris: list[str] | None  # None accepts any redirect URI
    certificates: list[x509.Certificate] = field(default_factory=list)  # public parts, as Azure holds them
    secret_expired: bool = False
    # API permissions > Application permissions of Office 365 Exchange Online; they reach the
    # app's tokens (the roles claim) only once an admin consented to them.
    application_permissions: tuple[str, ...] = ()
    consented_permissions: frozenset[str] = frozenset()

    @property
    def confidential(self) -> bool:
        return bool(self.client_secret or self.certificates)


class AppDirectory:
    def __init__(self, tenant_id: str, signing_key: SigningKey) -> None:
        self.tenant_id = tenant_id
        self.signing_key = signing_key
        self._lock = threading.RLock()
        self._apps: dict[str, App] = {}

    def register_app(self, client_id: str, client_secret: str, redirect_uris: list[str] | None) -> None:
        with self._lock:
            uris = list(redirect_uris) if redirect_uris is not None else None
            self._apps[client_id] = App(client_id, client_secret, uris)

    def add_certificate(self, client_id: str, certificate_pem: str) -> None:
        """Azure's Certificates & secrets > Upload certificate: the public part only."""
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
        with self._lock:
            self.app(client_id).certificates.append(certificate)

    def expire_secret(self, client_id: str) -> None:
        with self._lock:
            self.app(client_id).secret_expired = True

    def app(self, client_id: str) -> App:
        with self._lock:
            app = self._apps.get(client_id)
        if app is None:
            raise unknown_client(client_id, self.tenant_id)
        return app

    @staticmethod
    def redirect_allowed(app: App, redirect_uri: str) -> bool:
        return app.redirect_uris is None or redirect_uri in app.redirect_uris

    # -- application permissions -----------------------------------------------------------

    def set_application_permissions(self, client_id: str, roles: list[str]) -> None:
        unknown = sorted(set(roles) - APPLICATION_PERMISSIONS)
        if unknown:
            raise ValueError(
                f"not an Exchange Online application permission: {unknown}; one of {sorted(APPLICATION_PERMISSIONS)}"
            )
        with self._lock:
            self.app(client_id).application_permissions = tuple(roles)

    def grant_admin_consent(self, client_id: str) -> None:
        """An admin consented: the permissions the app requests now are granted (later
        additions need consent again, as in Azure)."""
        with self._lock:
            app = self.app(client_id)
            app.consented_permissions = frozenset(app.application_permissions)

    def reset_application_permissions(self) -> None:
        with self._lock:
            for app in self._apps.values():
                app.application_permissions = ()
                app.consented_permissions = frozenset()

    def enterprise_app_object_id(self, client_id: str) -> str:
        """The object id of the app's service principal in this tenant (Enterprise applications):
        the oid of the app's own tokens, and the ServiceId Exchange's New-ServicePrincipal needs."""
        return stable_guid("enterprise-application", self.tenant_id, client_id.lower())

    @staticmethod
    def app_object_id(client_id: str) -> str:
        """The app registration's object id (App registrations > Overview): another GUID."""
        return stable_guid("app-registration", client_id.lower())

    # -- token endpoint --------------------------------------------------------------------

    def check_credential(self, app: App, form: dict[str, str], secret: str | None, token_endpoint: str) -> None:
        """The app's certificate (client assertion) or secret; raise OAuthError when wrong."""
        if form.get("client_assertion"):
            with self._lock:
                registered = list(app.certificates)
            check_client_assertion(form, app.client_id, registered, token_endpoint)
        else:
            self._check_secret(app, secret, required=form.get("grant_type") == "client_credentials")

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

    def app_token(self, app: App, form: dict[str, str], lifetime: int) -> dict[str, Any]:
        """The client-credentials answer: a token of the app's service principal."""
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
        with self._lock:
            # Consent is per resource: only Exchange Online's tokens carry its permissions.
            roles = sorted(app.consented_permissions) if resource in MAIL_AUDIENCES else []
        oid = self.enterprise_app_object_id(app.client_id)
        claims = app_token_claims(app.client_id, self.tenant_id, resource, lifetime, oid, roles)
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self.signing_key.sign(claims),
        }
