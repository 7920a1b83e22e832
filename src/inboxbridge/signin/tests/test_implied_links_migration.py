"""Links made by the old rules that no user chose (a connected mailbox's account, an administrator's
sign-in name) are removed on upgrade; links users made themselves, and the domain rule's, stay."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.accounts.models import AuditEvent
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.signin.models import MicrosoftLogin

pytestmark = pytest.mark.django_db
migration = importlib.import_module("inboxbridge.signin.migrations.0003_forget_implied_links")


def old_link(user, tid: str, oid: str, username: str, how: str) -> MicrosoftLogin:
    """As the code before the upgrade left a link: its row and its audit event."""
    record_audit_event(user, "signin.linked", username, how=how)
    return MicrosoftLogin.objects.create(user=user, tid=tid, oid=oid, username=username)


def test_links_nobody_chose_are_removed_and_audited(django_user_model):
    olga = django_user_model.objects.create_user("olga", "olga@company.test", "pw")
    Mailbox.objects.create(owner=olga, email_address="shared@example.test", ms_tid="t", ms_oid="shared",
                           account_type=Mailbox.AccountType.OFFICE365, active=False)
    old_link(olga, "t", "shared", "shared@example.test", "first sign-in")
    boss = django_user_model.objects.create_user("boss", "boss@example.test", "pw", is_staff=True)
    old_link(boss, "t", "boss", "boss@example.test", "first sign-in")
    ann = django_user_model.objects.create_user("ann", "ann@example.test", "pw")
    old_link(ann, "t", "ann", "ann@example.test", "first sign-in")
    bob = django_user_model.objects.create_user("bob", "bob@company.test", "pw", is_superuser=True)
    Mailbox.objects.create(owner=bob, email_address="bob@example.test", ms_tid="t", ms_oid="bob",
                           account_type=Mailbox.AccountType.OFFICE365)
    old_link(bob, "t", "bob", "bob@example.test", "linked by the user")

    migration.forget_implied_links(apps, None)

    remaining = {login.user.username: login.origin for login in MicrosoftLogin.objects.select_related("user")}
    assert remaining == {"ann": "domain", "bob": "user"}
    removed = AuditEvent.objects.filter(action="signin.unlinked").values_list("target", flat=True)
    assert sorted(removed) == ["boss@example.test", "shared@example.test"]
