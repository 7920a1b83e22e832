"""Sign in with Microsoft through the identity platform stand-in and the one Redirect URI: who gets
in, who is refused and why, linking an account, and the settings that switch it on."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.signin import actions
from inboxbridge.signin.models import MicrosoftLogin
from inboxbridge.signin.tests.helpers import link_and_confirm, microsoft_account, sign_in_with_microsoft, signed_in_as

pytestmark = pytest.mark.django_db


def test_the_login_page_offers_microsoft_only_once_enabled(client, enabled_microsoft, admin_user):
    assert "Sign in with Microsoft" not in client.get(reverse("accounts:login")).content.decode()
    assert client.post(reverse("signin:start")).status_code == 302  # back to the login page...
    assert "not available" in client.get(reverse("accounts:login")).content.decode()  # ...saying why
    actions.save_sign_in_settings(admin_user, enabled=True, domains=[])
    assert 'id="sign-in-with-microsoft"' in client.get(reverse("accounts:login")).content.decode()


def test_an_allowed_domain_links_its_account_at_the_first_sign_in(client, sign_in_on, identity, admin_user,
                                                                   django_user_model):
    email = microsoft_account(identity)
    ann = django_user_model.objects.create_user("ann", email.upper(), "ann-password-1")
    actions.save_sign_in_settings(admin_user, enabled=True, domains=["example.test"])

    response = sign_in_with_microsoft(client, identity, email, next_url="/mail/")
    assert response.status_code == 302 and response["Location"] == "/mail/"
    assert signed_in_as(client) == "ann"
    link = MicrosoftLogin.objects.get(user=ann)
    assert link.username == email and link.last_used_at is not None
    assert AuditEvent.objects.filter(action="signin.linked", target=email).exists()
    assert AuditEvent.objects.filter(action="signin.microsoft", actor=ann).exists()

    # Linked by its ids: the account keeps signing in as Ann after her email here changes and the
    # domain is no longer allowed.
    django_user_model.objects.filter(pk=ann.pk).update(email="ann@elsewhere.test")
    actions.save_sign_in_settings(admin_user, enabled=True, domains=[])
    other = Client()
    assert sign_in_with_microsoft(other, identity, email).status_code == 302
    assert signed_in_as(other) == "ann"


def test_an_account_nobody_linked_is_refused_and_nobody_is_signed_in(client, sign_in_on, identity, django_user_model):
    email = microsoft_account(identity)
    django_user_model.objects.create_user("ann", email, "ann-password-1")  # same email, but no allowed domain
    response = sign_in_with_microsoft(client, identity, email)
    assert response.status_code == 403
    assert "not linked to a user here" in response.content.decode()
    assert signed_in_as(client) == "" and not MicrosoftLogin.objects.exists()


def test_an_open_redirect_in_next_is_ignored(client, sign_in_on, identity, admin_user, django_user_model):
    email = microsoft_account(identity)
    django_user_model.objects.create_user("ann", email, "ann-password-1")
    actions.save_sign_in_settings(admin_user, enabled=True, domains=["example.test"])
    response = sign_in_with_microsoft(client, identity, email, next_url="https://evil.example/")
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_user_links_an_account_in_my_configuration_then_signs_in_with_it(client, sign_in_on, identity,
                                                                            django_user_model):
    bob = django_user_model.objects.create_user("bob", "bob@company.test", "bob-password-1")
    email = microsoft_account(identity)  # another address than Bob's: linking does not need one
    client.force_login(bob)
    page = link_and_confirm(client, identity, email).content.decode()
    assert f"You can now sign in with the Microsoft account {email}." in page and email in page
    client.logout()
    assert sign_in_with_microsoft(client, identity, email).status_code == 302
    assert signed_in_as(client) == "bob"

    # The same account cannot be linked by a second user.
    eve = django_user_model.objects.create_user("eve", "eve@company.test", "eve-password-1")
    other = Client()
    other.force_login(eve)
    response = sign_in_with_microsoft(other, identity, email, start=reverse("signin:link"))
    assert response["Location"] == reverse("signin:mine")  # nothing to confirm
    assert "already signs in as another user" in other.get(reverse("signin:mine")).content.decode()
    assert list(MicrosoftLogin.objects.values_list("user__username", flat=True)) == ["bob"]

    # Unlinked: refused again.
    client.force_login(bob)
    client.post(reverse("signin:unlink", args=[MicrosoftLogin.objects.get().pk]))
    client.logout()
    assert sign_in_with_microsoft(client, identity, email).status_code == 403


def test_a_locked_user_is_refused(client, sign_in_on, identity, django_user_model):
    carl = django_user_model.objects.create_user("carl", "carl@company.test", "carl-password-1", is_active=False)
    account = identity.add_user(f"carl-{uuid.uuid4().hex[:6]}@example.test", "pw-1")
    MicrosoftLogin.objects.create(user=carl, tid=account.tid, oid=account.oid, username=account.email)
    response = sign_in_with_microsoft(client, identity, account.email)
    assert response.status_code == 403 and "This user is locked" in response.content.decode()
    assert signed_in_as(client) == ""


def test_the_settings_page_is_for_administrators(client, enabled_microsoft, admin_user, plain_user):
    client.force_login(plain_user)
    assert client.get(reverse("signin:settings")).status_code in (302, 403)
    client.force_login(admin_user)
    page = client.get(reverse("signin:settings")).content.decode()
    assert "/oauth2/microsoft/callback" in page
    response = client.post(reverse("signin:settings"), {"enabled": "on", "domains": "Contoso.test, not a domain"})
    assert "Not a domain name: not a domain." in response.content.decode()
    client.post(reverse("signin:settings"), {"enabled": "on", "domains": "Contoso.test, @fabrikam.test"})
    page = client.get(reverse("signin:settings")).content.decode()
    assert 'value="contoso.test, fabrikam.test"' in page
    assert AuditEvent.objects.filter(action="signin.settings_changed").exists()


def test_a_refusal_at_microsoft_is_explained_with_its_aadsts_code(client, sign_in_on, identity, admin_user,
                                                                   django_user_model):
    email = microsoft_account(identity)
    django_user_model.objects.create_user("ann", email, "ann-password-1")
    actions.save_sign_in_settings(admin_user, enabled=True, domains=["example.test"])
    identity.inject("authorize", "consent_required")
    response = sign_in_with_microsoft(client, identity, email)
    page = response.content.decode()
    assert response.status_code == 403 and "Microsoft did not sign you in." in page and "AADSTS65001" in page
    assert signed_in_as(client) == "" and not MicrosoftLogin.objects.exists()
