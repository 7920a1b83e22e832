"""The stand-in checks a certificate client assertion like Microsoft Entra ID: a registered key, a
good signature, this token endpoint as audience, the app as issuer and subject, not expired."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.stack.helpers import http_session
from tests.stack.identity import IdentityStandIn
from tests.stack.identity_assertion import ASSERTION_TYPE, thumbprints


def _key_and_certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert


class App:
    def __init__(self, identity: IdentityStandIn) -> None:
        self.identity = identity
        self.client_id = str(uuid.uuid4())
        self.key, self.cert = _key_and_certificate()
        identity.register_app(self.client_id, "")
        identity.add_certificate(self.client_id, self.cert.public_bytes(serialization.Encoding.PEM).decode())
        self.token_url = f"{identity.authority}/oauth2/v2.0/token"

    def assertion(self, *, key: Any = None, algorithm: str = "PS256", header: str = "x5t#S256", **claims: Any) -> str:
        now = int(time.time())
        body = {"aud": self.token_url, "iss": self.client_id, "sub": self.client_id, "jti": str(uuid.uuid4()),
                "nbf": now, "exp": now + 600, **claims}
        x5t, x5t256 = thumbprints(self.cert)
        return jwt.encode(body, key or self.key, algorithm=algorithm,
                          headers={header: x5t256 if header == "x5t#S256" else x5t})

    def token(self, assertion: str, assertion_type: str = ASSERTION_TYPE) -> dict[str, Any]:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "scope": "https://outlook.office365.com/.default",
                "client_assertion_type": assertion_type, "client_assertion": assertion}
        answer: dict[str, Any] = http_session(self.identity).post(self.token_url, data=form).json()
        return answer


@pytest.fixture
def app(identity: IdentityStandIn) -> App:
    return App(identity)


def test_a_good_assertion_by_either_thumbprint_and_either_algorithm_gets_a_token(app: App) -> None:
    assert "access_token" in app.token(app.assertion())
    assert "access_token" in app.token(app.assertion(algorithm="RS256", header="x5t"))


@pytest.mark.parametrize(("make", "code"), [
    (lambda app: app.assertion(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), 700027),
    (lambda app: _foreign(app), 700027),
    (lambda app: app.assertion(exp=int(time.time()) - 3600), 700024),
    (lambda app: app.assertion(aud="https://login.example.test/other/oauth2/v2.0/token"), 50013),
    (lambda app: app.assertion(iss="someone-else", sub="someone-else"), 700021),
    (lambda app: "not.a.jwt", 50027),
])
def test_a_bad_assertion_is_refused_with_microsofts_code(app: App, make: Any, code: int) -> None:
    answer = app.token(make(app))
    assert answer["error"] == "invalid_client"
    assert answer["error_codes"] == [code]


def _foreign(app: App) -> str:
    """Signed by another app's registered certificate: its key is unknown to this app."""
    other = App(app.identity)
    now = int(time.time())
    return jwt.encode({"aud": app.token_url, "iss": app.client_id, "sub": app.client_id, "exp": now + 600},
                      other.key, algorithm="PS256", headers={"x5t#S256": thumbprints(other.cert)[1]})


def test_the_wrong_assertion_type_is_refused(app: App) -> None:
    assert app.token(app.assertion(), "urn:example:other")["error_codes"] == [50027]
