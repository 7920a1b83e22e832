"""Self-tests of the identity stand-in, driven through MSAL and plain HTTP."""

from __future__ import annotations

import html
import json
import time
import uuid
from dataclasses import dataclass

import jwt
import pytest

from tests.stack.helpers import MAIL_SCOPES, http_session, msal_app, redirect_params, sign_in
from tests.stack.identity import IdentityStandIn, StandInUser

REDIRECT_URI = "http://localhost:8765/auth/callback"


@dataclass
class Registration:
    client_id: str
    secret: str
    redirect_uri: str


@pytest.fixture
def registration(identity: IdentityStandIn) -> Registration:
    reg = Registration(str(uuid.uuid4()), "s3cr3t-" + uuid.uuid4().hex, REDIRECT_URI)
    identity.register_app(reg.client_id, reg.secret, [reg.redirect_uri])
    return reg


@pytest.fixture
def user(identity: IdentityStandIn) -> StandInUser:
    return identity.add_user(f"user-{uuid.uuid4().hex[:8]}@example.test", "pa55word", name="Ada Lovelace")


def _signed_in_tokens(identity: IdentityStandIn, reg: Registration, user: StandInUser) -> dict[str, object]:
    app = msal_app(identity, reg.client_id, reg.secret)
    flow = app.initiate_auth_code_flow(MAIL_SCOPES, redirect_uri=reg.redirect_uri, login_hint=user.email)
    response = sign_in(identity, flow["auth_uri"], user.email, user.password)
    return app.acquire_token_by_auth_code_flow(flow, response)


def _verify(identity: IdentityStandIn, token: str, audience: str, issuer: str) -> dict[str, object]:
    keys = http_session(identity).get(f"{identity.authority}/discovery/v2.0/keys").json()
    key = jwt.PyJWK(keys["keys"][0])
    assert jwt.get_unverified_header(token)["kid"] == key.key_id
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=issuer)


@pytest.mark.parametrize("tenant", ["id", "domain", "organizations", "common"])
def test_discovery_for_every_tenant_alias(identity: IdentityStandIn, tenant: str) -> None:
    name = {"id": identity.tenant_id, "domain": identity.tenant_domain}.get(tenant, tenant)
    url = f"{identity.authority_host}/{name}/v2.0/.well-known/openid-configuration"
    doc = http_session(identity).get(url).json()
    # Like Microsoft's, the multi-tenant endpoints name the issuer as a template filled in per token.
    issuer_tenant = "{tenantid}" if tenant in ("organizations", "common") else identity.tenant_id
    assert doc["issuer"] == f"{identity.authority_host}/{issuer_tenant}/v2.0"
    assert doc["token_endpoint"].endswith("/oauth2/v2.0/token")
    assert "form_post" in doc["response_modes_supported"]
    assert doc["jwks_uri"].startswith(identity.authority_host)


def test_unknown_tenant(identity: IdentityStandIn) -> None:
    answer = http_session(identity).get(f"{identity.authority_host}/nowhere.test/v2.0/.well-known/openid-configuration")
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [90002]


def test_msal_auth_code_flow(identity: IdentityStandIn, registration: Registration, user: StandInUser) -> None:
    before = identity.count("token", "authorization_code")
    result = _signed_in_tokens(identity, registration, user)
    assert "error" not in result, result
    assert {"access_token", "refresh_token", "id_token", "client_info"} <= result.keys()
    assert identity.count("token", "authorization_code") == before + 1

    access = _verify(
        identity,
        str(result["access_token"]),
        "https://outlook.office.com",
        f"https://sts.windows.net/{identity.tenant_id}/",
    )
    assert access["upn"] == access["unique_name"] == user.email
    assert access["scp"] == "IMAP.AccessAsUser.All POP.AccessAsUser.All SMTP.Send"
    assert access["azp"] == access["appid"] == registration.client_id
    assert (access["oid"], access["tid"]) == (user.oid, identity.tenant_id)
    assert int(str(access["iat"])) <= time.time() - 290  # backdated for Dovecot

    claims = result["id_token_claims"]
    assert isinstance(claims, dict)
    assert claims["preferred_username"] == user.email and claims["name"] == "Ada Lovelace"
    id_claims = _verify(identity, str(result["id_token"]), registration.client_id, identity.issuer)
    assert id_claims["nonce"] and id_claims["oid"] == user.oid


def test_refresh_rotates_and_old_token_dies(
    identity: IdentityStandIn, registration: Registration, user: StandInUser
) -> None:
    first = _signed_in_tokens(identity, registration, user)
    before = identity.count("token", "refresh_token")
    app = msal_app(identity, registration.client_id, registration.secret)
    second = app.acquire_token_by_refresh_token(first["refresh_token"], MAIL_SCOPES)
    assert "access_token" in second, second
    assert second["refresh_token"] != first["refresh_token"]
    assert identity.count("token", "refresh_token") == before + 1

    again = msal_app(identity, registration.client_id, registration.secret)
    reused = again.acquire_token_by_refresh_token(first["refresh_token"], MAIL_SCOPES)
    assert reused["error"] == "invalid_grant"
    assert reused["error_codes"] == [70008]
    third = again.acquire_token_by_refresh_token(second["refresh_token"], MAIL_SCOPES)
    assert "access_token" in third, third


def test_wrong_client_secret(identity: IdentityStandIn, registration: Registration, user: StandInUser) -> None:
    app = msal_app(identity, registration.client_id, "the-secret-id-not-its-value")
    flow = app.initiate_auth_code_flow(MAIL_SCOPES, redirect_uri=registration.redirect_uri)
    result = app.acquire_token_by_auth_code_flow(flow, sign_in(identity, flow["auth_uri"], user.email, user.password))
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert "Trace ID:" in result["error_description"]


def test_revoked_refresh_token(identity: IdentityStandIn, registration: Registration, user: StandInUser) -> None:
    tokens = _signed_in_tokens(identity, registration, user)
    identity.revoke_refresh_tokens(user.email)
    app = msal_app(identity, registration.client_id, registration.secret)
    result = app.acquire_token_by_refresh_token(tokens["refresh_token"], MAIL_SCOPES)
    assert result["error"] == "invalid_grant"
    assert result["error_codes"] == [50173]


def test_code_is_single_use_and_pkce_is_checked(
    identity: IdentityStandIn, registration: Registration, user: StandInUser
) -> None:
    app = msal_app(identity, registration.client_id, registration.secret)
    flow = app.initiate_auth_code_flow(MAIL_SCOPES, redirect_uri=registration.redirect_uri)
    code = sign_in(identity, flow["auth_uri"], user.email, user.password)["code"]
    token_url = f"{identity.authority}/oauth2/v2.0/token"
    form = {
        "grant_type": "authorization_code",
        "client_id": registration.client_id,
        "client_secret": registration.secret,
        "code": code,
        "redirect_uri": registration.redirect_uri,
        "scope": " ".join(MAIL_SCOPES),
    }
    session = http_session(identity)
    wrong = session.post(token_url, data={**form, "code_verifier": "x" * 43})
    assert wrong.status_code == 400 and wrong.json()["error_codes"] == [501481]
    good = session.post(token_url, data={**form, "code_verifier": flow["code_verifier"]})
    assert good.status_code == 200, good.text
    assert "refresh_token" not in good.json()  # offline_access was not requested
    reused = session.post(token_url, data={**form, "code_verifier": flow["code_verifier"]})
    assert reused.json()["error"] == "invalid_grant"
    assert reused.json()["error_codes"] == [54005]


def test_authorize_error_pages(identity: IdentityStandIn, registration: Registration) -> None:
    session = http_session(identity)
    url = f"{identity.authority}/oauth2/v2.0/authorize"
    base = {"client_id": registration.client_id, "response_type": "code", "state": "st"}

    unknown = session.get(url, params={**base, "client_id": "nope", "redirect_uri": REDIRECT_URI})
    assert "AADSTS700016" in unknown.text and not unknown.is_redirect

    mismatch = session.get(url, params={**base, "redirect_uri": "https://evil.test/cb"}, allow_redirects=False)
    assert "AADSTS50011: The redirect URI 'https://evil.test/cb'" in html.unescape(mismatch.text)
    assert not mismatch.is_redirect

    identity.inject("authorize", "consent_required")
    consent = session.get(url, params={**base, "redirect_uri": REDIRECT_URI}, allow_redirects=False)
    answer = redirect_params(consent.headers["Location"])
    assert answer["error"] == "consent_required" and answer["state"] == "st"
    assert answer["error_description"].startswith("AADSTS65001:")

    identity.inject("authorize", "redirect_mismatch")
    injected = session.get(url, params={**base, "redirect_uri": REDIRECT_URI}, allow_redirects=False)
    assert not injected.is_redirect and "AADSTS50011" in injected.text


def test_sign_in_form(identity: IdentityStandIn, registration: Registration, user: StandInUser) -> None:
    session = http_session(identity)
    params = {
        "client_id": registration.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid offline_access",
        "state": "s1",
        "login_hint": user.email,
        "response_mode": "form_post",
    }
    page = session.get(f"{identity.authority}/oauth2/v2.0/authorize", params=params)
    assert "Sign in" in page.text and f'value="{user.email}"' in page.text
    with pytest.raises(AssertionError, match="password is incorrect"):
        sign_in(identity, page.url, user.email, "wrong", session=session)
    posted = sign_in(identity, page.url, user.email, user.password, session=session)
    assert posted["state"] == "s1" and posted["code"]


def test_injected_token_faults(identity: IdentityStandIn, registration: Registration) -> None:
    session = http_session(identity)
    url = f"{identity.authority}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": registration.client_id,
        "client_secret": registration.secret,
        "scope": "https://outlook.office365.com/.default",
    }
    identity.inject("token", "invalid_client")
    assert session.post(url, data=form).status_code == 401
    identity.inject("token", "server_error", count=2)
    assert [session.post(url, data=form).status_code for _ in range(3)] == [500, 500, 200]
    identity.inject("token", "invalid_grant")
    assert session.post(url, data=form).json()["error_codes"] == [70008]
    identity.inject("token", "slow:0.5")
    started = time.monotonic()
    assert session.post(url, data=form).status_code == 200
    assert time.monotonic() - started >= 0.5


def test_client_credentials(identity: IdentityStandIn, registration: Registration) -> None:
    session = http_session(identity)
    url = f"{identity.authority}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": registration.client_id,
        "client_secret": registration.secret,
    }

    def claims(resource: str = "https://outlook.office365.com") -> dict[str, object]:
        answer = session.post(url, data={**form, "scope": f"{resource}/.default"}).json()
        return dict(jwt.decode(answer["access_token"], options={"verify_signature": False}))

    # Requested application permissions reach the token only after admin consent.
    identity.set_application_permissions(registration.client_id, ["IMAP.AccessAsApp", "SMTP.SendAsApp"])
    before = claims()
    assert "roles" not in before and "upn" not in before and "scp" not in before and before["idtyp"] == "app"
    assert before["aud"] == "https://outlook.office365.com" and before["appid"] == registration.client_id
    assert before["oid"] == before["sub"] == identity.enterprise_app_object_id(registration.client_id)
    assert identity.app_object_id(registration.client_id) not in (before["oid"], registration.client_id)
    identity.grant_admin_consent(registration.client_id)
    assert claims()["roles"] == ["IMAP.AccessAsApp", "SMTP.SendAsApp"]
    assert "roles" not in claims("https://graph.microsoft.com")  # consent was for Exchange Online
    identity.set_application_permissions(registration.client_id, ["IMAP.AccessAsApp", "POP.AccessAsApp"])
    assert claims()["roles"] == ["IMAP.AccessAsApp", "SMTP.SendAsApp"]  # a new permission needs consent again
    with pytest.raises(ValueError, match=r"Mail\.Read"):
        identity.set_application_permissions(registration.client_id, ["Mail.Read"])
    bad = session.post(url, data={**form, "scope": "https://outlook.office365.com/IMAP.AccessAsApp"})
    assert bad.json()["error"] == "invalid_scope"


def test_admin_consent_redirect(identity: IdentityStandIn, registration: Registration) -> None:
    answer = http_session(identity).get(
        f"{identity.authority_host}/organizations/v2.0/adminconsent",
        params={
            "client_id": registration.client_id,
            "redirect_uri": REDIRECT_URI,
            "state": "xyz",
            "scope": "https://outlook.office365.com/.default",
        },
        allow_redirects=False,
    )
    assert answer.status_code == 302
    params = redirect_params(answer.headers["Location"])
    assert params == {
        "admin_consent": "True",
        "tenant": identity.tenant_id,
        "state": "xyz",
        "scope": "https://outlook.office365.com/.default",
    }


def test_request_log_has_no_secrets(identity: IdentityStandIn, registration: Registration, user: StandInUser) -> None:
    tokens = _signed_in_tokens(identity, registration, user)
    logged = json.dumps(identity.requests)
    for secret in (registration.secret, user.password, tokens["access_token"], tokens["refresh_token"]):
        assert str(secret) not in logged
