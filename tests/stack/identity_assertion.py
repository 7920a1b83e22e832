"""How the stand-in checks a client assertion (private_key_jwt), the way Microsoft Entra ID does.

The app signs a JWT with the private key of a certificate registered for it; the header names the
certificate by its SHA-1 (`x5t`) or SHA-256 (`x5t#S256`) thumbprint, and the claims name the app
(iss = sub = client id) and this token endpoint (aud). Each refusal carries Microsoft's AADSTS code.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterable

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .identity_tokens import OAuthError

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS256", "PS256"]
CLOCK_SKEW = 300  # Microsoft allows five minutes


def thumbprints(certificate: x509.Certificate) -> tuple[str, str]:
    """(x5t, x5t#S256) as a JWT header carries them: base64url without padding (x5t is SHA-1 by definition)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return _b64url(hashlib.sha1(der).digest()), _b64url(hashlib.sha256(der).digest())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def check_client_assertion(
    form: dict[str, str], client_id: str, certificates: Iterable[x509.Certificate], token_endpoint: str
) -> None:
    """Raise OAuthError unless the form's client assertion proves the app holds a registered key."""
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError(
            400, "invalid_request", 50027,
            f"client_assertion_type must be {ASSERTION_TYPE}.",
        )
    assertion = form.get("client_assertion", "")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.DecodeError:
        raise OAuthError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
    # MSAL sends the thumbprints with base64 padding, which Microsoft tolerates.
    x5t, x5t256 = (str(header.get(name) or "").rstrip("=") for name in ("x5t", "x5t#S256"))
    certificate = next(
        (c for c in certificates if (x5t and thumbprints(c)[0] == x5t) or (x5t256 and thumbprints(c)[1] == x5t256)),
        None,
    )
    if certificate is None:
        raise OAuthError(
            401, "invalid_client", 700027,
            f"Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key "
            f"used by client: '{x5t256 or x5t}', Please visit the Azure Portal, Graph Explorer or directly use MS "
            f"Graph to see configured keys for app Id '{client_id}'.]",
        )
    try:
        claims = jwt.decode(
            assertion, certificate.public_key(), algorithms=ALGORITHMS, audience=token_endpoint,  # type: ignore[arg-type]
            options={"require": ["exp", "aud", "iss", "sub"], "verify_exp": False}, leeway=CLOCK_SKEW,
        )
    except jwt.InvalidSignatureError:
        raise OAuthError(401, "invalid_client", 700027, "Client assertion contains an invalid signature.") from None
    except jwt.InvalidAudienceError:
        raise OAuthError(
            401, "invalid_client", 50013,
            f"Assertion audience claim does not match the required value. The expected audience is '{token_endpoint}'.",
        ) from None
    except jwt.InvalidTokenError:
        raise OAuthError(401, "invalid_client", 50027, "JWT token is invalid or malformed.") from None
    if float(claims["exp"]) + CLOCK_SKEW < time.time():
        raise OAuthError(401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    if claims["iss"] != client_id or claims["sub"] != client_id:
        raise OAuthError(
            401, "invalid_client", 700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        )
    if time.time() > certificate.not_valid_after_utc.timestamp():
        raise OAuthError(401, "invalid_client", 700027, "Client assertion failed signature validation. [Reason - The "
                         "key used is expired.]")
