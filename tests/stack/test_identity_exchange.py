"""Unit tests of Exchange's access rules (identity_exchange.decide_login / decide_send_as)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.stack.identity_exchange import (
    ExchangeRules,
    decide_login,
    decide_send_as,
    send_as_denied_reply,
)
from tests.stack.identity_tokens import (
    DEFAULT_MAIL_SCOPES,
    OUTLOOK_RESOURCE,
    ScopeRequest,
    SigningKey,
    Subject,
    access_token_claims,
    app_token_claims,
    stable_guid,
)

TENANT = "0d7f5c4e-3b21-4a8e-9f60-1c2d3e4f5a6b"
APP = "4b1e9a0c-7d52-4f36-8e21-9a0b1c2d3e4f"
SP = stable_guid("enterprise-application", TENANT, APP)  # the app's tokens carry this oid
WRONG_SP = stable_guid("app-registration", APP)
DELEGATE = "dana@example.test"
SHARED = "support@example.test"
OTHER_SHARED = "sales@example.test"
ALL_ROLES = ["IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp"]


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey()


def _rules(key: SigningKey, **grants: Any) -> ExchangeRules:
    return ExchangeRules(
        tenant_id=TENANT,
        issuer=f"https://sts.windows.net/{TENANT}/",
        public_key=key.private_key.public_key(),
        known_addresses=frozenset({DELEGATE, SHARED, OTHER_SHARED}),
        **grants,
    )


def _user_token(key: SigningKey, email: str = DELEGATE, scopes: tuple[str, ...] = DEFAULT_MAIL_SCOPES,
                lifetime: int = 3600, **changes: Any) -> str:
    subject = Subject(email, "Dana", stable_guid("user", TENANT, email), TENANT)
    claims = access_token_claims(subject, APP, ScopeRequest(OUTLOOK_RESOURCE, scopes, ()), lifetime)
    return key.sign({**claims, **changes})


def _app_token(key: SigningKey, roles: list[str] | None = None, **changes: Any) -> str:
    roles = ALL_ROLES if roles is None else roles
    claims = app_token_claims(APP, TENANT, "https://outlook.office365.com", 3600, SP, roles)
    return key.sign({**claims, **changes})


def _decide(service: str, user: str, token: str, rules: ExchangeRules) -> tuple[bool, str]:
    decision = decide_login(service, user, token, rules, time.time())
    assert (decision.service, decision.user) == (service, user)
    return decision.allowed, decision.reason


@pytest.mark.parametrize("service", ["imap", "pop3", "smtp"])
def test_a_token_opens_its_owners_mailbox_whatever_the_case(key: SigningKey, service: str) -> None:
    assert _decide(service, "Dana@Example.TEST", _user_token(key), _rules(key))[0]


@pytest.mark.parametrize(("service", "scope"), [
    ("imap", "IMAP.AccessAsUser.All"), ("pop3", "POP.AccessAsUser.All"), ("smtp", "SMTP.Send"),
])
def test_each_service_needs_its_own_delegated_scope(key: SigningKey, service: str, scope: str) -> None:
    others = tuple(s for s in DEFAULT_MAIL_SCOPES if s != scope)
    allowed, reason = _decide(service, DELEGATE, _user_token(key, scopes=others), _rules(key))
    assert not allowed and f"lacks scope {scope}" in reason


@pytest.mark.parametrize(("problem", "expected"), [
    ("expired", "token expired"),
    ("not yet valid", "not yet valid"),
    ("other tenant", "another directory"),
    ("graph audience", "is not Exchange Online"),
    ("forged", "signature"),
    ("garbage", "not a valid JWT"),
])
def test_tokens_that_are_not_exchanges_are_refused(key: SigningKey, problem: str, expected: str) -> None:
    now = int(time.time())
    tokens = {
        "expired": lambda: _user_token(key, lifetime=-60),
        "not yet valid": lambda: _user_token(key, nbf=now + 600),
        "other tenant": lambda: _user_token(key, tid="elsewhere", iss="https://sts.windows.net/elsewhere/"),
        "graph audience": lambda: _user_token(key, aud="https://graph.microsoft.com"),
        "forged": lambda: key.forge({"upn": DELEGATE, "scp": "IMAP.AccessAsUser.All", "exp": now + 600}),
        "garbage": lambda: "not-a-token",
    }
    allowed, reason = _decide("imap", DELEGATE, tokens[problem](), _rules(key))
    assert not allowed and expected in reason


@pytest.mark.parametrize("service", ["imap", "pop3"])
def test_a_delegate_opens_a_shared_mailbox_only_with_full_access(key: SigningKey, service: str) -> None:
    token = _user_token(key)
    allowed, reason = _decide(service, SHARED, token, _rules(key))
    assert not allowed and reason == f"{DELEGATE} holds no Full Access on {SHARED}"
    granted = _rules(key, full_access=frozenset({(SHARED, DELEGATE)}))
    assert _decide(service, SHARED, token, granted) == (True, f"{DELEGATE} holds Full Access on {SHARED}")
    assert not _decide(service, OTHER_SHARED, token, granted)[0]


def test_smtp_auth_is_only_ever_as_the_tokens_owner(key: SigningKey) -> None:
    everything = _rules(key, full_access=frozenset({(SHARED, DELEGATE)}), send_as=frozenset({(SHARED, DELEGATE)}))
    allowed, reason = _decide("smtp", SHARED, _user_token(key), everything)
    assert not allowed and "user= must be the token's owner" in reason


def test_an_app_token_without_consented_roles_is_refused(key: SigningKey) -> None:
    rules = _rules(key, full_access=frozenset({(SHARED, SP)}), service_principals=((APP, SP),))
    allowed, reason = _decide("imap", SHARED, _app_token(key, roles=[]), rules)
    assert not allowed and "carries no roles" in reason and "admin consent" in reason


@pytest.mark.parametrize(("service", "role"), [
    ("imap", "IMAP.AccessAsApp"), ("pop3", "POP.AccessAsApp"), ("smtp", "SMTP.SendAsApp"),
])
def test_each_service_needs_its_own_application_permission(key: SigningKey, service: str, role: str) -> None:
    everything = _rules(key, full_access=frozenset({(SHARED, SP)}), send_as=frozenset({(SHARED, SP)}),
                        service_principals=((APP, SP),))
    others = [r for r in ALL_ROLES if r != role]
    allowed, reason = _decide(service, SHARED, _app_token(key, roles=others), everything)
    assert not allowed and f"lacks role {role}" in reason
    assert _decide(service, SHARED, _app_token(key), everything)[0]


def test_an_app_needs_a_service_principal_registered_with_its_enterprise_app_object_id(key: SigningKey) -> None:
    token = _app_token(key)
    unregistered = _rules(key, full_access=frozenset({(SHARED, SP)}))
    allowed, reason = _decide("imap", SHARED, token, unregistered)
    assert not allowed and "no service principal registered" in reason
    # The common mistake: New-ServicePrincipal with the app registration's object id.
    mistaken = _rules(key, full_access=frozenset({(SHARED, WRONG_SP)}), service_principals=((APP, WRONG_SP),))
    allowed, reason = _decide("imap", SHARED, token, mistaken)
    assert not allowed and f"ServiceId {WRONG_SP}" in reason and f"oid {SP}" in reason


def test_an_app_opens_only_the_mailboxes_granted_to_its_service_principal(key: SigningKey) -> None:
    rules = _rules(key, full_access=frozenset({(SHARED, SP)}), service_principals=((APP.upper(), SP.upper()),))
    token = _app_token(key)
    assert _decide("imap", SHARED, token, rules)[0]
    assert _decide("pop3", SHARED.upper(), token, rules)[0]
    allowed, reason = _decide("imap", OTHER_SHARED, token, rules)
    assert not allowed and reason == f"service principal {SP} holds no Full Access on {OTHER_SHARED}"


def test_an_app_sends_over_smtp_only_with_send_as(key: SigningKey) -> None:
    token = _app_token(key)
    full_access_only = _rules(key, full_access=frozenset({(SHARED, SP)}), service_principals=((APP, SP),))
    allowed, reason = _decide("smtp", SHARED, token, full_access_only)
    assert not allowed and "no Send As" in reason
    with_send_as = _rules(key, send_as=frozenset({(SHARED, SP)}), service_principals=((APP, SP),))
    assert _decide("smtp", SHARED, token, with_send_as)[0]


def test_only_mail_services_take_token_logins(key: SigningKey) -> None:
    allowed, reason = _decide("sieve", DELEGATE, _user_token(key), _rules(key))
    assert not allowed and "does not take OAuth logins" in reason


def test_send_as_rule_for_submitted_senders(key: SigningKey) -> None:
    rules = _rules(key, send_as=frozenset({(SHARED, DELEGATE)}))
    assert decide_send_as(DELEGATE, "DANA@example.test", rules).allowed
    assert decide_send_as(DELEGATE, "someone@elsewhere.test", rules).allowed  # not this directory's
    assert decide_send_as(DELEGATE, SHARED, rules).allowed
    refused = decide_send_as(DELEGATE, OTHER_SHARED, rules)
    assert not refused.allowed and refused.service == "send-as" and "SendAsDenied" in refused.reason


def test_the_send_as_refusal_is_exchanges() -> None:
    assert send_as_denied_reply(DELEGATE, SHARED) == (
        f"554 5.2.252 SendAsDenied; {DELEGATE} not allowed to send as {SHARED}; "
        "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"
    )
