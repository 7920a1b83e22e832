"""What signs in as a user: only the Microsoft accounts the user linked and confirmed (and, for users who
are not administrators, an account of an allowed domain at its first sign-in). Never the account of a
connected mailbox, never an account its user unlinked."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.mailboxes.actions import disconnect_mailbox
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.signin import actions
from inboxbridge.signin.models import MicrosoftLogin
from inboxbridge.signin.tests.helpers import (
    link_and_confirm,
    microsoft_account,
    sign_in_with_microsoft,
    signed_in_as,
)

pytestmark = pytest.mark.django_db


def connected_mailbox(identity, owner: User) -> tuple[str, Mailbox]:
    """As connecting an Office 365 mailbox leaves it: the account's directory and object ids on it."""
    account = identity.add_user(f"shared-{uuid.uuid4().hex[:6]}@example.test", "pw-1")
    mailbox = Mailbox.objects.create(owner=owner, email_address=account.email, ms_tid=account.tid,
                                     ms_oid=account.oid, account_type=Mailbox.AccountType.OFFICE365)
    return account.email, mailbox


def test_the_account_of_a_connected_mailbox_does_not_sign_in_as_its_owner(client, sign_in_on, identity,
                                                                          django_user_model):
    # A staff user connects a shared account: everyone who knows its password must not get in as them.
    olga = django_user_model.objects.create_user("olga", "olga@company.test", "olga-password-1", is_staff=True)
    email, _ = connected_mailbox(identity, olga)
    response = sign_in_with_microsoft(client, identity, email)
    assert response.status_code == 403 and "not linked to a user here" in response.content.decode()
    assert signed_in_as(client) == "" and not MicrosoftLogin.objects.exists()

    # Only her own, confirmed choice lets it sign in as her.
    client.force_login(olga)
    assert "You can now sign in" in link_and_confirm(client, identity, email).content.decode()
    other = Client()
    assert sign_in_with_microsoft(other, identity, email).status_code == 302 and signed_in_as(other) == "olga"


def test_disconnecting_a_mailbox_leaves_its_account_no_way_in(client, sign_in_on, identity, django_user_model):
    olga = django_user_model.objects.create_user("olga", "olga@company.test", "olga-password-1")
    email, mailbox = connected_mailbox(identity, olga)
    sign_in_with_microsoft(Client(), identity, email)  # whatever a mailbox once allowed...
    disconnect_mailbox(olga, mailbox, delete_mail=False)
    response = sign_in_with_microsoft(client, identity, email)  # ...nothing is left of it
    assert response.status_code == 403 and signed_in_as(client) == ""
    assert not MicrosoftLogin.objects.exists()


def test_linking_waits_for_the_users_confirmation(client, sign_in_on, identity, django_user_model):
    bob = django_user_model.objects.create_user("bob", "bob@company.test", "bob-password-1")
    email = microsoft_account(identity)
    client.force_login(bob)
    response = sign_in_with_microsoft(client, identity, email, start=reverse("signin:link"))
    assert response.status_code == 302 and response["Location"] == reverse("signin:confirm")
    assert not MicrosoftLogin.objects.exists()
    page = client.get(reverse("signin:confirm")).content.decode()
    assert f"Let {email} sign in as you?" in page and "will be able to sign in here as <strong>bob</strong>" in page
    assert sign_in_with_microsoft(Client(), identity, email).status_code == 403  # not yet

    page = client.post(reverse("signin:confirm"), {"cancel": "1"}, follow=True).content.decode()
    assert f"{email} was not linked." in page and not MicrosoftLogin.objects.exists()
    assert "No Microsoft account is waiting" in client.post(reverse("signin:confirm"), {"confirm": "1"},
                                                            follow=True).content.decode()
    assert not MicrosoftLogin.objects.exists()

    link_and_confirm(client, identity, email)
    link = MicrosoftLogin.objects.get(user=bob)
    assert link.origin == MicrosoftLogin.Origin.USER
    assert AuditEvent.objects.filter(action="signin.linked", target=email, detail__how="linked by the user").exists()


def test_another_user_cannot_confirm_a_pending_link(client, sign_in_on, identity, django_user_model):
    bob = django_user_model.objects.create_user("bob", "bob@company.test", "bob-password-1")
    eve = django_user_model.objects.create_user("eve", "eve@company.test", "eve-password-1")
    client.force_login(bob)
    sign_in_with_microsoft(client, identity, microsoft_account(identity), start=reverse("signin:link"))
    client.force_login(eve)  # same browser, another user: the pending link is not hers
    client.post(reverse("signin:confirm"), {"confirm": "1"})
    assert not MicrosoftLogin.objects.exists()


def test_an_unlinked_account_is_not_linked_again_by_the_domain_rule(client, sign_in_on, identity, admin_user,
                                                                   django_user_model):
    email = microsoft_account(identity)
    ann = django_user_model.objects.create_user("ann", email, "ann-password-1")
    actions.save_sign_in_settings(admin_user, enabled=True, domains=["example.test"])
    assert sign_in_with_microsoft(client, identity, email).status_code == 302  # linked by the domain rule
    link = MicrosoftLogin.objects.get(user=ann)
    assert link.origin == MicrosoftLogin.Origin.DOMAIN
    page = client.post(reverse("signin:unlink", args=[link.pk]), follow=True).content.decode()
    assert f"{email} can no longer sign in as you." in page
    client.logout()

    response = sign_in_with_microsoft(client, identity, email)
    assert response.status_code == 403 and "was unlinked" in response.content.decode()
    assert signed_in_as(client) == "" and not MicrosoftLogin.objects.exists()

    # Her own confirmed link brings it back.
    client.force_login(ann)
    link_and_confirm(client, identity, email)
    client.logout()
    assert sign_in_with_microsoft(client, identity, email).status_code == 302 and signed_in_as(client) == "ann"


@pytest.mark.parametrize("admin", [{"is_staff": True}, {"is_superuser": True}])
def test_administrators_are_never_linked_by_their_sign_in_name(client, sign_in_on, identity, admin_user,
                                                              django_user_model, admin):
    email = microsoft_account(identity)
    django_user_model.objects.create_user("boss", email, "boss-password-1", **admin)
    actions.save_sign_in_settings(admin_user, enabled=True, domains=["example.test"])
    response = sign_in_with_microsoft(client, identity, email)
    assert response.status_code == 403
    assert "administrators always link their accounts there" in response.content.decode()
    assert signed_in_as(client) == "" and not MicrosoftLogin.objects.exists()


def test_the_domain_rule_itself_refuses_administrators_and_unlinked_accounts(django_user_model):
    from inboxbridge.microsoft.client import SignedInIdentity

    boss = django_user_model.objects.create_user("boss", "boss@example.test", "pw", is_staff=True)
    ann = django_user_model.objects.create_user("ann", "ann@example.test", "pw")
    with pytest.raises(actions.NotLinkable):
        actions.link_microsoft_login(boss, SignedInIdentity("o1", "t1", "boss@example.test"),
                                     origin=MicrosoftLogin.Origin.DOMAIN)
    login = actions.link_microsoft_login(ann, SignedInIdentity("o2", "t1", "ann@example.test"),
                                         origin=MicrosoftLogin.Origin.USER)
    actions.unlink_microsoft_login(ann, login.pk)
    with pytest.raises(actions.NotLinkable):
        actions.link_microsoft_login(ann, SignedInIdentity("o2", "t1", "ann@example.test"),
                                     origin=MicrosoftLogin.Origin.DOMAIN)


def test_the_sign_in_page_says_exactly_what_signs_in_as_you(client, sign_in_on, plain_user):
    client.force_login(plain_user)
    page = client.get(reverse("signin:mine")).content.decode()
    assert "only the Microsoft accounts listed here sign in as you" in page and "nothing else does" in page
    assert "Connecting an Office 365 mailbox does not let its Microsoft account sign in" in page
    assert "also signs you in" not in page
