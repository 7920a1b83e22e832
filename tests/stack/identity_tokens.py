"""Signing keys, token claims, scopes and error bodies of the identity stand-in.

Kept apart from the HTTP and state code so that the shapes that have to look like
Microsoft's (claims, AADSTS error bodies) are in one place.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

OUTLOOK_RESOURCE = "https://outlook.office.com"
GRAPH_RESOURCE = "https://graph.microsoft.com"
# Both spellings name the Exchange Online resource; Microsoft issues the same audience for them.
OUTLOOK_PREFIXES = ("https://outlook.office.com/", "https://outlook.office365.com/")
RESERVED_SCOPES = ("openid", "profile", "email", "offline_access")
# Verifiers that allow no clock skew (Exchange's rules here, the product's id_token checks)
# must accept a token at once, so everything is backdated by this much.
BACKDATE_SECONDS = 300
DEFAULT_MAIL_SCOPES = ("IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send")
# Hostile token answers (a forger between the app and the token endpoint, or a misbehaving
# directory): the answer is a normal 200, only its id_token is wrong in the named way.
ID_TOKEN_FAULTS = ("id_token_bad_signature", "id_token_other_issuer", "id_token_foreign_tid", "id_token_wrong_nonce")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def stable_guid(*parts: str) -> str:
    """A GUID derived from its inputs, so a user's oid stays the same across runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "inboxbridge-stand-in:" + ":".join(parts)))


@dataclass
class OAuthError(Exception):
    """An error answer shaped like the Microsoft identity platform's."""

    status: int
    error: str
    code: int
    message: str
    suberror: str | None = None
    trace_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def __post_init__(self) -> None:
        super().__init__(f"{self.error}: AADSTS{self.code}")
        now = dt.datetime.now(dt.UTC)
        self.timestamp = now.strftime("%Y-%m-%d %H:%M:%SZ")

    @property
    def description(self) -> str:
        return (
            f"AADSTS{self.code}: {self.message}\r\nTrace ID: {self.trace_id}\r\n"
            f"Correlation ID: {self.correlation_id}\r\nTimestamp: {self.timestamp}"
        )

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "error": self.error,
            "error_description": self.description,
            "error_codes": [self.code],
            "timestamp": self.timestamp,
            "trace_id": self.trace_id,
            "correlation_id": self.correlation_id,
        }
        if self.suberror:
            body["suberror"] = self.suberror
        if self.code == 50011:
            body["error_uri"] = "https://login.microsoftonline.com/error?code=50011"
        return body


def injected_error(kind: str, client_id: str, redirect_uri: str = "") -> OAuthError:
    """The error a test asked for with IdentityStandIn.inject()."""
    if kind == "invalid_client":
        return OAuthError(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is "
            "the client secret value, not the client secret ID, for a secret added to app "
            f"'{client_id}'.",
        )
    if kind == "consent_required":
        return OAuthError(
            400,
            "invalid_grant",
            65001,
            "The user or administrator has not consented to use the application with ID "
            f"'{client_id}' named 'inboxbridge'. Send an interactive authorization request "
            "for this user and resource.",
            suberror="consent_required",
        )
    if kind == "redirect_mismatch":
        return redirect_mismatch(client_id, redirect_uri)
    if kind == "invalid_grant":
        return OAuthError(
            400,
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. "
            "Send a new interactive authorization request for this user and resource.",
        )
    if kind == "server_error":
        return OAuthError(
            500,
            "server_error",
            50000,
            "There was an error issuing a token or an issue with our sign-in service.",
        )
    raise ValueError(f"unknown error kind to inject: {kind!r}")


def redirect_mismatch(client_id: str, redirect_uri: str) -> OAuthError:
    return OAuthError(
        400,
        "invalid_request",
        50011,
        f"The redirect URI '{redirect_uri}' specified in the request does not match the "
        f"redirect URIs configured for the application '{client_id}'. Make sure the redirect "
        "URI sent in the request matches one added to your application in the Azure portal. "
        "Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix "
        "this.",
    )


def unknown_client(client_id: str, tenant_id: str) -> OAuthError:
    return OAuthError(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory "
        f"'{tenant_id}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may have "
        "sent your authentication request to the wrong tenant.",
    )


@dataclass(frozen=True)
class ScopeRequest:
    """A requested scope list split into the one resource and the OIDC scopes."""

    resource: str
    resource_scopes: tuple[str, ...]  # without the resource prefix (what goes into scp)
    reserved: tuple[str, ...]

    @property
    def echoed(self) -> str:
        """The `scope` of the token answer: full resource scopes plus the OIDC ones."""
        full = [f"{self.resource}/{s}" for s in self.resource_scopes]
        return " ".join(full + list(self.reserved))


def parse_scopes(raw: str) -> ScopeRequest:
    """Split a scope parameter the way the identity platform does; raise on mixed resources."""
    scopes = raw.split()
    reserved = tuple(s for s in scopes if s in RESERVED_SCOPES)
    resources: dict[str, list[str]] = {}
    for scope in scopes:
        if scope in RESERVED_SCOPES:
            continue
        resource, name = _split_scope(scope)
        resources.setdefault(resource, []).append(name)
    if len(resources) > 1:
        raise OAuthError(
            400,
            "invalid_scope",
            70011,
            f"The provided value for the input parameter 'scope' is not valid. The scope "
            f"'{raw}' contains scopes of more than one resource.",
        )
    if not resources:
        # Like Microsoft: only OIDC scopes give a Graph token for the user's profile.
        return ScopeRequest(GRAPH_RESOURCE, ("User.Read",), reserved)
    ((resource, names),) = resources.items()
    return ScopeRequest(resource, tuple(names), reserved)


def _split_scope(scope: str) -> tuple[str, str]:
    for prefix in OUTLOOK_PREFIXES:
        if scope.startswith(prefix):
            return OUTLOOK_RESOURCE, scope[len(prefix) :]
    if "://" in scope:
        resource, _, name = scope.rpartition("/")
        return resource, name
    # A bare scope name means Microsoft Graph, which is why such tokens fail at IMAP.
    return GRAPH_RESOURCE, scope


class SigningKey:
    """The tenant's RSA signing key with a self-signed certificate for the JWKS x5c."""

    def __init__(self) -> None:
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.test")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(self.private_key, hashes.SHA256())
        )
        self.cert_der = cert.public_bytes(serialization.Encoding.DER)
        # Microsoft's kid is the base64url SHA-1 thumbprint (= x5t).
        self.kid = b64url(hashlib.sha1(self.cert_der).digest())

    def sign(self, claims: dict[str, Any]) -> str:
        headers = {"typ": "JWT", "x5t": self.kid, "kid": self.kid}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)

    def forge(self, claims: dict[str, Any]) -> str:
        """Claims signed by a key that is not this one, under this key's kid: what a forger sends."""
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, other, algorithm="RS256", headers={"typ": "JWT", "x5t": self.kid, "kid": self.kid})

    def jwk(self, issuer: str) -> dict[str, Any]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes(3, "big")),
            "x5c": [base64.b64encode(self.cert_der).decode("ascii")],
            "issuer": issuer,
        }


@dataclass(frozen=True)
class Subject:
    """Who a token is about (a user or, for client credentials, the app itself)."""

    email: str
    name: str
    oid: str
    tid: str


def access_token_claims(subject: Subject, client_id: str, scopes: ScopeRequest, lifetime: int) -> dict[str, Any]:
    """Claims of a v1 Exchange Online (outlook) access token for a signed-in user."""
    now = int(time.time())
    given, _, family = subject.name.partition(" ")
    claims: dict[str, Any] = {
        "aud": scopes.resource,
        "iss": f"https://sts.windows.net/{subject.tid}/",
        "iat": now - BACKDATE_SECONDS,
        "nbf": now - BACKDATE_SECONDS,
        "exp": now + lifetime,
        "acr": "1",
        "amr": ["pwd"],
        "app_displayname": "inboxbridge",
        "appid": client_id,
        "appidacr": "1",
        "azp": client_id,
        "azpacr": "1",
        "family_name": family,
        "given_name": given,
        "idtyp": "user",
        "ipaddr": "127.0.0.1",
        "name": subject.name,
        "oid": subject.oid,
        "preferred_username": subject.email,
        "scp": " ".join(scopes.resource_scopes),
        "sid": str(uuid.uuid4()),
        "sub": pairwise_sub(subject.oid, client_id),
        "tid": subject.tid,
        "unique_name": subject.email,
        "upn": subject.email,
        "uti": b64url(uuid.uuid4().bytes),
        "ver": "1.0",
    }
    return claims


def app_token_claims(
    client_id: str, tid: str, resource: str, lifetime: int, service_principal_oid: str, roles: list[str]
) -> dict[str, Any]:
    """Claims of an app-only (client credentials) token: no upn, no scp; roles only when the
    app holds consented application permissions (Microsoft leaves the claim out otherwise)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": resource,
        "iss": f"https://sts.windows.net/{tid}/",
        "iat": now - BACKDATE_SECONDS,
        "nbf": now - BACKDATE_SECONDS,
        "exp": now + lifetime,
        "app_displayname": "inboxbridge",
        "appid": client_id,
        "appidacr": "1",
        "azp": client_id,
        "idtyp": "app",
        "oid": service_principal_oid,
        "sub": service_principal_oid,
        "tid": tid,
        "uti": b64url(uuid.uuid4().bytes),
        "ver": "1.0",
    }
    if roles:
        claims["roles"] = roles
    return claims


def id_token_claims(subject: Subject, client_id: str, issuer: str, nonce: str | None, lifetime: int) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": issuer,
        "iat": now - BACKDATE_SECONDS,
        "nbf": now - BACKDATE_SECONDS,
        "exp": now + lifetime,
        "email": subject.email,
        "name": subject.name,
        "oid": subject.oid,
        "preferred_username": subject.email,
        "rh": "0.stand-in.",
        "sub": pairwise_sub(subject.oid, client_id),
        "tid": subject.tid,
        "uti": b64url(uuid.uuid4().bytes),
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return claims


def hostile_id_token(key: SigningKey, claims: dict[str, Any], fault: str) -> str:
    """An id_token wrong in the way `fault` (one of ID_TOKEN_FAULTS) names."""
    if fault == "id_token_bad_signature":
        return key.forge(claims)
    if fault == "id_token_other_issuer":
        # Signed with the real key, but naming another directory's issuer than its own tid.
        elsewhere = stable_guid("tenant", "elsewhere")
        return key.sign({**claims, "iss": claims["iss"].replace(claims["tid"], elsewhere)})
    if fault == "id_token_foreign_tid":
        # Signed with the real key, naming this directory's issuer for an account of another one.
        return key.sign({**claims, "tid": stable_guid("tenant", "elsewhere")})
    if fault == "id_token_wrong_nonce":
        return key.sign({**claims, "nonce": b64url(hashlib.sha256(b"another sign-in").digest())})
    raise ValueError(f"unknown id_token fault {fault!r}")


def pairwise_sub(oid: str, client_id: str) -> str:
    # Microsoft's sub differs per application for the same user; oid does not.
    return b64url(hashlib.sha256(f"{oid}:{client_id}".encode()).digest())[:43]


def client_info(oid: str, tid: str) -> str:
    return b64url(json.dumps({"uid": oid, "utid": tid}).encode())
