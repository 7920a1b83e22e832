"""Which user a Microsoft account signs in as (signin.matching.decide): the rules alone."""

from __future__ import annotations

from inboxbridge.signin.matching import (
    CONSUMER_TENANT,
    NOT_LINKED,
    UNLINKED,
    Candidates,
    Decision,
    Policy,
    decide,
    parse_domains,
    parse_tenants,
)

TID, OID = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-0000-66f3-3332eca7ea81"
OTHER_TID = "0c5b5d36-1f2e-4d5a-9a4b-3f6e2a1b9c80"
MINE = Policy(authority_tenant=TID)


def domains(*names: str) -> Policy:
    return Policy(allowed_domains=list(names), authority_tenant=TID)


def test_a_linked_account_signs_in_as_its_user_whatever_its_name():
    found = Candidates(linked_user=7, user_by_username=9)
    assert decide(TID, OID, "renamed@elsewhere.test", MINE, found) == Decision(7)


def test_a_first_sign_in_links_by_sign_in_name_only_in_an_allowed_domain():
    found = Candidates(user_by_username=3)
    assert decide(TID, OID, "Ann@Contoso.test", domains("contoso.test"), found) == Decision(3, link=True)
    assert decide(TID, OID, "ann@contoso.test", domains("fabrikam.test"), found) == Decision(None, refusal=NOT_LINKED)
    assert decide(TID, OID, "ann@contoso.test", MINE, found) == Decision(None, refusal=NOT_LINKED)
    assert decide(TID, OID, "ann@contoso.test", domains("contoso.test"), Candidates()).refusal == NOT_LINKED


def test_the_domain_rule_never_links_an_administrator_nor_an_unlinked_account():
    admin = Candidates(user_by_username=3, user_by_username_is_admin=True)
    assert decide(TID, OID, "boss@contoso.test", domains("contoso.test"), admin) == Decision(None, refusal=NOT_LINKED)
    unlinked = Candidates(user_by_username=3, unlinked=True)
    assert decide(TID, OID, "ann@contoso.test", domains("contoso.test"), unlinked) == Decision(None, refusal=UNLINKED)
    # Linked again by its user, it signs in.
    assert decide(TID, OID, "ann@contoso.test", MINE, Candidates(linked_user=3, unlinked=False)) == Decision(3)


def test_personal_microsoft_accounts_never_link_themselves():
    found = Candidates(user_by_username=3)
    policy = Policy(["contoso.test"], [CONSUMER_TENANT], "common")
    assert decide(CONSUMER_TENANT, OID, "ann@contoso.test", policy, found).user_id is None


def test_only_listed_directories_sign_in():
    listed = Policy(allowed_tenants=[TID], authority_tenant="organizations")
    assert decide(TID, OID, "a@x.test", listed, Candidates(linked_user=7)) == Decision(7)
    refused = decide(OTHER_TID, OID, "a@x.test", listed, Candidates(linked_user=7))
    assert refused.user_id is None and f"belongs to the directory {OTHER_TID}" in refused.refusal
    # A multi-tenant authority with no list lets no one in; a tenant's own authority means that tenant.
    nobody = decide(TID, OID, "a@x.test", Policy(authority_tenant="common"), Candidates(linked_user=7))
    assert nobody.user_id is None and "accepts no directory yet" in nobody.refusal
    assert decide(TID, OID, "a@x.test", MINE, Candidates(linked_user=7)) == Decision(7)
    assert decide(OTHER_TID, OID, "a@x.test", Policy(allowed_tenants=[TID], authority_tenant=TID),
                  Candidates(linked_user=7)).user_id is None


def test_an_answer_without_ids_is_refused():
    assert decide("", OID, "ann@contoso.test", domains("contoso.test"), Candidates(linked_user=1)).user_id is None
    assert "no tid or oid" in decide(TID, "", "x@y.test", MINE, Candidates()).refusal


def test_domains_and_directories_as_administrators_type_them():
    assert parse_domains(" Contoso.test, @fabrikam.test;\nexample.org ,, ") == ["contoso.test", "fabrikam.test",
                                                                            "example.org"]
    assert parse_tenants(f"{{{TID.upper()}}};\n{OTHER_TID}") == [TID, OTHER_TID]
