"""The one door to the Microsoft identity platform: the only module that imports msal.

Every function takes the effective `MicrosoftConfig`, builds a fresh MSAL application (MSAL caches
HTTP 400 answers per application object for 60 s, which would hide a fixed secret) and turns every
refusal into a `MicrosoftError` carrying the AADSTS code.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import msal
import requests
from django.conf import settings

from inboxbridge.lib.http import http_session
from inboxbridge.microsoft import id_token as id_token_rules
from inboxbridge.microsoft.config import MicrosoftConfig, remember_secret_expired
from inboxbridge.microsoft.errors import SECRET_EXPIRED, MicrosoftError, from_result, unreachable

logger = logging.getLogger(__name__)

# A mailbox's tokens, kept encrypted on its row (see mailboxes/tokens.py).
TokenCache = msal.SerializableTokenCache


@dataclass(frozen=True)
class SignedInIdentity:
    """Who signed in, from the verified id_token: never from a Graph call or an unverified claim."""

    oid: str
    tid: str
    username: str  # preferred_username: the mailbox address for work accounts
    name: str = ""
    email: str = ""
    home_account_id: str = ""
    claims: dict[str, Any] = field(default_factory=dict, repr=False)


def _session() -> requests.Session:
    session = http_session()
    session.request = _with_timeout(session.request)  # type: ignore[method-assign]
    return session


def _with_timeout(request: Any) -> Any:
    def call(method: str, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", settings.HTTP_TIMEOUT)
        return request(method, url, **kwargs)

    return call


def client_credential(config: MicrosoftConfig) -> str | dict[str, str]:
    """The certificate when one is configured, else the secret. With `public_certificate` MSAL
    signs the assertion PS256 under the SHA-256 thumbprint (x5t#S256) and sends the chain (x5c);
    MSAL deprecates the SHA-1 `thumbprint` form."""
    if config.uses_certificate:
        return {"private_key": config.private_key_pem, "public_certificate": config.certificate_pem}
    return config.client_secret


def build_app(config: MicrosoftConfig, cache: msal.SerializableTokenCache | None = None) -> Any:
    if not config.is_complete:
        raise MicrosoftError("not_configured", "The Microsoft integration is not configured.")
    try:
        return msal.ConfidentialClientApplication(
            config.client_id,
            client_credential=client_credential(config),
            authority=config.authority,
            instance_discovery=False,
            http_client=_session(),
            token_cache=cache,
        )
    except (requests.RequestException, OSError) as exc:
        raise unreachable(config.authority_host, exc) from None
    except ValueError as exc:
        # MSAL says so when the tenant's discovery document is missing: usually a wrong tenant.
        raise MicrosoftError(
            "invalid_tenant",
            f"Microsoft does not know the directory {config.tenant_id!r} ({exc.__class__.__name__}). "
            "Check the Directory (tenant) ID.",
            90002,
        ) from None


def start_flow(
    config: MicrosoftConfig,
    scopes: list[str],
    redirect_uri: str,
    *,
    login_hint: str | None = None,
    prompt: str = "select_account",
) -> dict[str, Any]:
    """Begin an authorization-code flow with PKCE, state and nonce; returns MSAL's flow dict
    (which holds the code verifier: keep it server-side)."""
    app = build_app(config)
    with warnings.catch_warnings():
        # MSAL recommends form_post; we keep the query mode on purpose: a cross-site POST back from
        # Microsoft would not carry the SameSite=Lax session cookie the pending flow is bound to.
        warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended")
        flow: dict[str, Any] = app.initiate_auth_code_flow(
            scopes, redirect_uri=redirect_uri, prompt=prompt, login_hint=login_hint or None, response_mode="query"
        )
    if "error" in flow:
        raise from_result(flow)
    return flow


def admin_consent_url(config: MicrosoftConfig, scopes: list[str], redirect_uri: str, state: str) -> str:
    """Microsoft's page where a tenant administrator grants `scopes` for the whole directory; the
    answer (admin_consent=True, or an error) comes back to `redirect_uri` with `state`. No MSAL: there
    is no code to redeem. A `<resource>/.default` scope grants every permission configured on the app
    registration for that resource, application permissions included (only this form grants those):
    it is sent alone."""
    default = bool(scopes) and all(scope.endswith("/.default") for scope in scopes)
    query = urlencode({
        "client_id": config.client_id,
        "scope": " ".join(scopes if default else [*scopes, "offline_access", "openid", "profile", "email"]),
        "redirect_uri": redirect_uri,
        "state": state,
    })
    return f"{config.authority}/v2.0/adminconsent?{query}"


def finish_flow(
    config: MicrosoftConfig,
    flow: dict[str, Any],
    auth_response: dict[str, str],
    cache: msal.SerializableTokenCache | None = None,
) -> SignedInIdentity:
    """Redeem the code; tokens go only into `cache` (if given), never back to the caller."""
    app = build_app(config, cache)
    try:
        result = app.acquire_token_by_auth_code_flow(flow, auth_response)
    except (requests.RequestException, OSError) as exc:
        raise unreachable("token endpoint", exc) from None
    except RuntimeError:
        # MSAL raises it when the id_token's nonce is not this flow's: a token of another sign-in.
        logger.warning("Refused a token answer whose id_token nonce does not match the sign-in")
        raise MicrosoftError(
            "nonce_mismatch",
            "The id_token in Microsoft's answer was not issued for this sign-in (its nonce does not match). "
            "Nothing was changed. Start again.",
        ) from None
    except ValueError:
        # MSAL raises it on a state mismatch (the callback does not belong to this flow) and on an
        # id_token it cannot even decode.
        raise MicrosoftError(
            "state_mismatch", "The answer from Microsoft does not match this sign-in, or is malformed."
        ) from None
    except (LookupError, TypeError, AttributeError):
        # An id_token or client_info without the parts MSAL expects.
        raise MicrosoftError("malformed_answer", "Microsoft's answer is malformed. Nothing was changed.") from None
    if "error" in result:
        raise _refused(config, result)
    claims = verify_id_token(config, result.get("id_token", ""))
    return SignedInIdentity(
        oid=str(claims.get("oid", "")),
        tid=str(claims.get("tid", "")),
        username=str(claims.get("preferred_username") or claims.get("email") or ""),
        name=str(claims.get("name", "")),
        email=str(claims.get("email", "")),
        home_account_id=f"{claims.get('oid', '')}.{claims.get('tid', '')}",
        claims=claims,
    )


def _refused(config: MicrosoftConfig, result: dict[str, Any]) -> MicrosoftError:
    """A token endpoint's refusal; an expired secret is remembered for the administrators' alert."""
    error = from_result(result)
    if error.code == SECRET_EXPIRED and not config.uses_certificate:
        remember_secret_expired(config)
    return error


def verify_id_token(config: MicrosoftConfig, id_token: str) -> dict[str, Any]:
    """Check signature, audience, issuer and lifetime: MSAL only checks the nonce."""
    return id_token_rules.verify(_session(), config.authority, config.client_id, id_token)


def new_cache(serialized: str = "") -> msal.SerializableTokenCache:
    cache = msal.SerializableTokenCache()
    if serialized:
        cache.deserialize(serialized)
    return cache


def cache_changed(cache: msal.SerializableTokenCache) -> bool:
    return bool(cache.has_state_changed)


def serialize_cache(cache: msal.SerializableTokenCache) -> str:
    return str(cache.serialize())


def acquire_token_silent(
    config: MicrosoftConfig,
    cache: msal.SerializableTokenCache,
    scopes: list[str],
    home_account_id: str,
    *,
    force_refresh: bool = False,
) -> str:
    """An access token from the cache, refreshed (and the rotated refresh token stored in `cache`)
    when it has less than five minutes left."""
    app = build_app(config, cache)
    accounts = [a for a in app.get_accounts() if a.get("home_account_id") == home_account_id]
    if not accounts:
        raise MicrosoftError("invalid_grant", "No stored authorization for this mailbox.", 70008)
    try:
        result = app.acquire_token_silent_with_error(scopes, accounts[0], force_refresh=force_refresh)
    except (requests.RequestException, OSError) as exc:
        raise unreachable("token endpoint", exc) from None
    if not result:
        raise MicrosoftError("invalid_grant", "No stored authorization for this mailbox.", 70008)
    if "error" in result:
        raise _refused(config, result)
    return str(result["access_token"])


# App-only tokens by (credentials fingerprint, scopes): (token, expires at). In this process only,
# never stored: a token lives about an hour, so each process asks Microsoft about once an hour
# instead of at every login; a change of credentials changes the fingerprint and the key.
_app_tokens: dict[tuple[str, tuple[str, ...]], tuple[str, float]] = {}
_app_tokens_lock = threading.Lock()
APP_TOKEN_MARGIN = 300  # seconds: a cached token this close to expiry is replaced


def acquire_app_token(config: MicrosoftConfig, scopes: list[str], *, force_refresh: bool = False) -> str:
    """App-only token (client credentials) for system mailboxes without a signed-in user, from the
    app's secret or certificate. Cached until five minutes before it expires; `force_refresh` asks
    Microsoft for a new one (a server refused the cached one)."""
    key = (config.fingerprint, tuple(scopes))
    with _app_tokens_lock:
        cached = _app_tokens.get(key)
        if cached and not force_refresh and cached[1] > time.time() + APP_TOKEN_MARGIN:
            return cached[0]
        # Held while asking: concurrent logins of one process wait for this answer rather than
        # each asking Microsoft.
        app = build_app(config)
        try:
            result = app.acquire_token_for_client(scopes)
        except (requests.RequestException, OSError) as exc:
            raise unreachable("token endpoint", exc) from None
        if "error" in result:
            _app_tokens.pop(key, None)
            raise _refused(config, result)
        token = str(result["access_token"])
        # A fresh MSAL application has an empty cache: this answer is a new token of `expires_in`.
        _app_tokens[key] = (token, time.time() + float(result.get("expires_in") or 0))
        return token


def forget_app_tokens() -> None:
    """Drop this process's app-only tokens (the next login asks Microsoft)."""
    with _app_tokens_lock:
        _app_tokens.clear()


def unverified_roles(access_token: str) -> frozenset[str]:
    """The `roles` claim of an access token, read without checking its signature: only to explain a
    refusal to an administrator (which application permissions the token carries). Nothing is
    decided on it; the mail server checks the token itself."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return frozenset()
    roles = claims.get("roles") if isinstance(claims, dict) else None
    return frozenset(str(role) for role in roles) if isinstance(roles, list) else frozenset()


def discovery_answers(authority_host: str, tenant: str) -> tuple[bool, str]:
    """For System Information: does the authority host serve its discovery document?"""
    url = f"{authority_host.rstrip('/')}/{tenant or 'organizations'}/v2.0/.well-known/openid-configuration"
    try:
        response = _session().get(url, timeout=5)
    except (requests.RequestException, OSError) as exc:
        return False, f"{type(exc).__name__} reaching {url}"
    if response.ok and "issuer" in response.text:
        return True, url
    return False, f"HTTP {response.status_code} from {url}"


def cached_access_token(cache: msal.SerializableTokenCache, scopes: list[str], home_account_id: str) -> str | None:
    """An access token from the cache alone (no network, no lock needed) if it has over five
    minutes left; MSAL would refresh it below that."""
    wanted = {s.lower() for s in scopes}
    for entry in cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN, query={"home_account_id": home_account_id}):
        granted = {s.lower() for s in str(entry.get("target", "")).split()}
        if wanted <= granted and int(entry.get("expires_on", 0)) > time.time() + 300:
            return str(entry["secret"])
    return None
