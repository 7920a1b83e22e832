"""Verifying the id_token of a sign-in: MSAL 1.39 checks only its nonce, and decodes the rest unverified.

Microsoft's rules, which multi-tenant apps (`common`, `organizations`) depend on:
- the token is signed by one of the keys of the authority's JWKS (found by `kid`), with RS256;
- its issuer is `https://{authority host}/{tid}/v2.0` for its own `tid`: the discovery document of a
  multi-tenant authority names it as a template with `{tenantid}`, a tenant's own names it outright;
- each key names the issuer it signs for (again a template for the shared keys), and vouches for
  tokens of that issuer only.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from inboxbridge.microsoft.errors import MicrosoftError, unreachable

TENANT_PLACEHOLDER = "{tenantid}"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# What a person can act on, per PyJWT error; PyJWT's own texts may quote parts of the token.
_REASONS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], str], ...] = (
    (jwt.InvalidSignatureError, "its signature does not match the directory's signing key"),
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.InvalidAudienceError, "it was issued to another application"),
    ((jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError), "it is not valid yet (check this server's clock)"),
    (jwt.MissingRequiredClaimError, "it lacks a required claim"),
    (jwt.InvalidAlgorithmError, "it is not signed with RS256"),
    (jwt.PyJWKError, "its signing key cannot be used"),
)


def invalid(reason: str) -> MicrosoftError:
    return MicrosoftError(
        "invalid_id_token",
        f"The id_token in Microsoft's answer failed verification: {reason}. Nothing was changed.",
    )


def issuer_problem(claims: dict[str, Any], discovery_issuer: str, key_issuer: str) -> str:
    """Why the token's issuer is not the one Microsoft's rules allow for its `tid`, or ""."""
    tid = str(claims.get("tid") or "")
    if not GUID.fullmatch(tid):
        return "it names no directory (tid)"
    issuer = claims.get("iss")
    if not discovery_issuer or issuer != discovery_issuer.replace(TENANT_PLACEHOLDER, tid):
        return "it was issued by another authority than this application's"
    if tid not in urlsplit(str(issuer)).path.split("/"):
        # A tenant's own discovery names its issuer outright: the token must still be that tenant's.
        return "its issuer is not the directory it names"
    if key_issuer and key_issuer.replace(TENANT_PLACEHOLDER, tid) != issuer:
        return "it is signed with a key of another directory"
    return ""


def verify(session: requests.Session, authority: str, client_id: str, id_token: str) -> dict[str, Any]:
    """The verified claims; MicrosoftError if the id_token is missing, forged, foreign or stale."""
    if not id_token:
        raise MicrosoftError("no_id_token", "Microsoft returned no id_token; is the openid permission granted?")
    try:
        discovery = session.get(f"{authority}/v2.0/.well-known/openid-configuration").json()
        keys = [k for k in session.get(discovery["jwks_uri"]).json()["keys"] if isinstance(k, dict)]
        issuer = str(discovery.get("issuer") or "")
    except (requests.RequestException, OSError, KeyError, ValueError, TypeError) as exc:
        raise unreachable("signing keys", exc) from None
    try:
        kid = jwt.get_unverified_header(id_token).get("kid")
        jwk = next((k for k in keys if k.get("kid") == kid), None)
        if jwk is None:
            raise invalid("it is signed with a key the directory does not publish")
        claims: dict[str, Any] = jwt.decode(
            id_token, key=jwt.PyJWK.from_dict(jwk), algorithms=["RS256"], audience=client_id,
            options={"require": ["exp", "iat", "aud", "iss", "tid", "oid"], "verify_iss": False}, leeway=300,
        )
    except jwt.PyJWTError as exc:
        reason = next((text for kinds, text in _REASONS if isinstance(exc, kinds)), "it is malformed")
        raise invalid(reason) from None
    if problem := issuer_problem(claims, issuer, str(jwk.get("issuer") or "")):
        raise invalid(problem)
    return claims
