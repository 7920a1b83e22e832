from __future__ import annotations

import pytest

from inboxbridge.microsoft.forms import MicrosoftSettingsForm, tenant_warning

GUID = "6731de76-14a6-49ae-97bc-6eba6914391e"


def form(**data: str) -> MicrosoftSettingsForm:
    return MicrosoftSettingsForm(data={"client_id": GUID, "tenant_id": GUID, "client_secret": "", **data})


def test_a_guid_client_id_and_tenant_are_accepted() -> None:
    assert form().is_valid()


def test_braces_and_upper_case_around_a_guid_are_tolerated() -> None:
    f = form(client_id="{6731DE76-14A6-49AE-97BC-6EBA6914391E}")
    assert f.is_valid()
    assert f.cleaned_data["client_id"] == GUID


@pytest.mark.parametrize("value", ["not-a-guid", "6731de76-14a6-49ae-97bc", "6731de76-14a6-49ae-97bc-6eba6914391e-1"])
def test_a_client_id_that_is_not_a_guid_is_refused_with_where_to_find_it(value: str) -> None:
    f = form(client_id=value)
    assert not f.is_valid()
    assert "Overview > Essentials" in f.errors["client_id"][0]


@pytest.mark.parametrize("tenant", [GUID, "contoso.onmicrosoft.com", "organizations", "common", "Contoso.com"])
def test_tenant_may_be_a_guid_a_domain_or_multi_tenant(tenant: str) -> None:
    assert form(tenant_id=tenant).is_valid()


@pytest.mark.parametrize("tenant", ["contoso", "https://login.microsoftonline.com/x", "a b.com"])
def test_a_malformed_tenant_is_refused(tenant: str) -> None:
    f = form(tenant_id=tenant)
    assert not f.is_valid()
    assert "GUID" in f.errors["tenant_id"][0]


def test_common_and_organizations_warn_about_single_tenant_apps() -> None:
    assert "AADSTS50194" in tenant_warning("common")
    assert "AADSTS50194" in tenant_warning("organizations")
    assert tenant_warning(GUID) == ""


def test_pasting_the_secret_id_instead_of_its_value_is_explained() -> None:
    f = form(client_secret="0e7f2b8a-1111-2222-3333-444455556666")
    assert not f.is_valid()
    assert "Value" in f.errors["client_secret"][0]
