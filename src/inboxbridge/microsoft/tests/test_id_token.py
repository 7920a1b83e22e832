"""The id_token's issuer rules for single- and multi-tenant authorities (Microsoft's), and the
refusals of client.finish_flow for answers MSAL does not check."""

from __future__ import annotations

import pytest

from inboxbridge.microsoft.id_token import issuer_problem

A = "8f3c2a51-6d0e-4b7a-9c1f-2e5d7a9b4c60"
B = "3b1f4a8e-2c6d-4e9f-8a7b-5d0c1e2f3a4b"
HOST = "https://login.microsoftonline.com"
TEMPLATE = f"{HOST}/{{tenantid}}/v2.0"


def claims(tid: str, iss: str) -> dict[str, str]:
    return {"tid": tid, "iss": iss}


def test_a_multi_tenant_token_is_issued_by_its_own_directory():
    assert issuer_problem(claims(B, f"{HOST}/{B}/v2.0"), TEMPLATE, TEMPLATE) == ""
    assert "another authority" in issuer_problem(claims(B, f"{HOST}/{A}/v2.0"), TEMPLATE, TEMPLATE)
    assert "another authority" in issuer_problem(claims(B, f"https://evil.example/{B}/v2.0"), TEMPLATE, TEMPLATE)


def test_a_key_vouches_only_for_its_own_issuer():
    # Directory A's own key (an app's custom signing key, say) cannot sign for directory B.
    assert "key of another directory" in issuer_problem(claims(B, f"{HOST}/{B}/v2.0"), TEMPLATE, f"{HOST}/{A}/v2.0")
    assert issuer_problem(claims(A, f"{HOST}/{A}/v2.0"), TEMPLATE, f"{HOST}/{A}/v2.0") == ""


def test_a_tenants_own_issuer_still_binds_the_token_to_that_tenant():
    literal = f"{HOST}/{A}/v2.0"
    assert issuer_problem(claims(A, literal), literal, literal) == ""
    assert "not the directory it names" in issuer_problem(claims(B, literal), literal, literal)


@pytest.mark.parametrize("tid", ["", "{tenantid}", "../" + A, A + "/x"])
def test_a_token_must_name_its_directory(tid):
    assert issuer_problem(claims(tid, f"{HOST}/{tid}/v2.0"), TEMPLATE, TEMPLATE) == "it names no directory (tid)"
