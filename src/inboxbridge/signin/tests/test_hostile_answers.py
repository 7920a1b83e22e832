"""Answers at the Redirect URI that must be refused with the refusal page, never a server error, and
never signing anyone in: forged or foreign id_tokens, a nonce of another sign-in, garbled AADSTS codes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inboxbridge.signin import actions
from inboxbridge.signin.models import MicrosoftLogin
from inboxbridge.signin.tests.helpers import (
    CALLBACK,
    answer_of,
    microsoft_account,
    sign_in_with_microsoft,
    signed_in_as,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(sign_in_on, identity, django_user_model):
    """A Microsoft account linked to Ann: the answers below would sign her in if they were believed."""
    email = microsoft_account(identity)
    user = django_user_model.objects.create_user("ann", email, "ann-password-1")
    account = identity.tenant.subject(email)
    MicrosoftLogin.objects.create(user=user, tid=account.tid, oid=account.oid, username=email)
    return email


def refusal(response) -> str:
    assert response.status_code == 403, response.status_code
    page = response.content.decode()
    assert 'id="refusal"' in page
    return page


@pytest.mark.parametrize(("fault", "reason"), [
    ("id_token_bad_signature", "its signature does not match the directory&#x27;s signing key"),
    ("id_token_other_issuer", "issued by another authority"),
    ("id_token_foreign_tid", "its issuer is not the directory it names"),
    ("id_token_wrong_nonce", "was not issued for this sign-in (its nonce does not match)"),
])
def test_a_hostile_id_token_is_refused(client, ann, identity, fault, reason):
    identity.inject("token", fault)
    page = refusal(sign_in_with_microsoft(client, identity, ann))
    assert "Microsoft did not sign you in." in page and reason in page
    assert signed_in_as(client) == ""


@pytest.mark.parametrize(("query", "shown"), [
    ({"error_codes": "abc", "error_description": "AADSTS65001: The user has not consented"}, "AADSTS65001"),
    ({"error_description": "AADSTS" + "9" * 5000 + ": overflow"}, "access_denied: "),
    ({"error_description": "AADSTSabc: not a number"}, "access_denied: AADSTSabc: not a number"),
])
def test_a_garbled_aadsts_code_is_refused_with_what_can_be_read(client, ann, identity, query, shown):
    answer = answer_of(client, identity, ann)
    response = client.get(CALLBACK, {"state": answer["state"], "error": "access_denied", **query})
    page = refusal(response)
    assert "Microsoft did not sign you in." in page and shown in page
    assert "9" * 600 not in page
    assert signed_in_as(client) == ""


@pytest.fixture
def multi_tenant(ann, admin_user, identity):
    """Microsoft Settings on `organizations`, proven again, as a multi-tenant deployment has them."""
    from inboxbridge.configuration.models import StoredSetting
    from inboxbridge.microsoft import actions as microsoft
    from inboxbridge.microsoft.config import TENANT_ID, load_config

    StoredSetting.objects.filter(key=TENANT_ID.key).update(value="organizations")
    microsoft.enable_email_sync(admin_user, load_config().fingerprint)
    return ann


OTHER_TENANT = "3b1f4a8e-2c6d-4e9f-8a7b-5d0c1e2f3a4b"


def test_a_multi_tenant_sign_in_is_refused_until_its_directory_is_listed(client, multi_tenant, admin_user, identity):
    page = refusal(sign_in_with_microsoft(client, identity, multi_tenant))
    assert "accepts no directory yet" in page and "organizations" in page
    actions.save_sign_in_settings(admin_user, enabled=True, domains=[], tenants=[identity.tenant_id])
    assert sign_in_with_microsoft(client, identity, multi_tenant).status_code == 302
    assert signed_in_as(client) == "ann"


def test_an_account_of_another_directory_is_refused_even_when_linked(client, multi_tenant, admin_user, identity,
                                                                     django_user_model):
    actions.save_sign_in_settings(admin_user, enabled=True, domains=[], tenants=[identity.tenant_id])
    email = microsoft_account(identity, f"guest-{OTHER_TENANT[:4]}@fabrikam.test", tenant_id=OTHER_TENANT)
    guest = identity.tenant.subject(email)
    gus = django_user_model.objects.create_user("gus", "gus@company.test", "gus-password-1")
    MicrosoftLogin.objects.create(user=gus, tid=guest.tid, oid=guest.oid, username=email)

    page = refusal(sign_in_with_microsoft(client, identity, email))
    assert f"belongs to the directory {OTHER_TENANT}, whose accounts may not sign in here" in page
    assert signed_in_as(client) == ""

    actions.save_sign_in_settings(admin_user, enabled=True, domains=[], tenants=[identity.tenant_id, OTHER_TENANT])
    assert sign_in_with_microsoft(Client(), identity, email).status_code == 302


def test_an_account_of_another_directory_cannot_be_linked(client, multi_tenant, admin_user, identity, plain_user):
    actions.save_sign_in_settings(admin_user, enabled=True, domains=[], tenants=[identity.tenant_id])
    email = microsoft_account(identity, "someone@fabrikam.test", tenant_id=OTHER_TENANT)
    client.force_login(plain_user)
    response = sign_in_with_microsoft(client, identity, email, start=reverse("signin:link"))
    assert response["Location"] == reverse("signin:mine")
    page = client.get(reverse("signin:mine")).content.decode()
    assert f"{email} was not linked. This Microsoft account belongs to the directory {OTHER_TENANT}" in page
    assert not MicrosoftLogin.objects.filter(user=plain_user).exists()


def test_the_settings_page_lists_directories_and_says_what_the_domain_rule_trusts(client, multi_tenant, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("signin:settings")).content.decode()
    assert 'id="no-tenant-listed"' in page and "every Microsoft sign-in is refused" in page
    assert "preferred_username" in page and "never links an administrator" in page
    response = client.post(reverse("signin:settings"), {"enabled": "on", "tenants": "contoso.com", "domains": ""})
    assert "Not a Directory (tenant) ID: contoso.com." in response.content.decode()
    client.post(reverse("signin:settings"), {"enabled": "on", "tenants": f"{{{OTHER_TENANT.upper()}}}", "domains": ""})
    page = client.get(reverse("signin:settings")).content.decode()
    assert f'value="{OTHER_TENANT}"' in page and 'id="no-tenant-listed"' not in page
