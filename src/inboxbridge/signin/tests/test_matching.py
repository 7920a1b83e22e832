"""Which user a Microsoft account signs in as (signin.matching.decide): the rules alone."""

from __future__ import annotations

from inboxbridge.signin.matching import CONSUMER_TENANT, NOT_LINKED, Candidates, Decision, decide, parse_domains

TID, OID = "72f988bf-86f1-41af-91ab-2d7cd011db47", "00000000-0000-0000-66f3-3332eca7ea81"


def test_a_linked_account_signs_in_as_its_user_whatever_its_name():
    assert decide(TID, OID, "renamed@elsewhere.test", [], Candidates(linked_user=7, user_by_username=9)) == Decision(7)


def test_the_account_of_a_connected_mailbox_signs_in_as_its_owner_and_is_linked():
    assert decide(TID, OID, "a@contoso.test", [], Candidates(mailbox_owner=5)) == Decision(5, link=True)


def test_a_first_sign_in_links_by_sign_in_name_only_in_an_allowed_domain():
    found = Candidates(user_by_username=3)
    assert decide(TID, OID, "Ann@Contoso.test", ["contoso.test"], found) == Decision(3, link=True)
    assert decide(TID, OID, "ann@contoso.test", ["fabrikam.test"], found) == Decision(None, refusal=NOT_LINKED)
    assert decide(TID, OID, "ann@contoso.test", [], found) == Decision(None, refusal=NOT_LINKED)
    assert decide(TID, OID, "ann@contoso.test", ["contoso.test"], Candidates()) == Decision(None, refusal=NOT_LINKED)


def test_personal_microsoft_accounts_never_link_themselves():
    found = Candidates(user_by_username=3)
    assert decide(CONSUMER_TENANT, OID, "ann@contoso.test", ["contoso.test"], found).user_id is None


def test_an_answer_without_ids_is_refused():
    assert decide("", OID, "ann@contoso.test", ["contoso.test"], Candidates(linked_user=1)).user_id is None
    assert "no tid or oid" in decide(TID, "", "x@y.test", [], Candidates()).refusal


def test_domains_as_administrators_type_them():
    assert parse_domains(" Contoso.test, @fabrikam.test;\nexample.org ,, ") == ["contoso.test", "fabrikam.test",
                                                                            "example.org"]
