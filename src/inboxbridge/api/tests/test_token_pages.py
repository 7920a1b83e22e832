"""API Tokens in My Configuration: a user's tokens are their own; an administrator makes one for a
service user, which then acts as that user; nobody revokes a token they cannot see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.api.models import ApiToken
from inboxbridge.api.tests.conftest import bearer, make_token

pytestmark = pytest.mark.django_db

PAGE = reverse("api-tokens:list")


def create(client, **fields):
    return client.post(PAGE, {"name": "Integration", "scopes": ["mail:read"], "expires_in": "30", **fields})


def test_a_user_makes_tokens_for_themselves_only(client, django_user_model):
    alice = django_user_model.objects.create_user("alice", password="alice-password-1")
    bob = django_user_model.objects.create_user("bob", password="bob-password-1")
    client.force_login(alice)
    page = create(client, user=bob.pk).content.decode()
    token = ApiToken.objects.get()
    assert token.user == alice and 'name="user"' not in page  # the field is not even offered
    assert timezone.now() + timedelta(days=29) < token.expires_at <= timezone.now() + timedelta(days=30)
    assert AuditEvent.objects.filter(action="api_token.created", actor=alice).count() == 1
    refused = client.post(PAGE, {"name": "No scope", "expires_in": "30"})
    assert refused.status_code == 400 and "Choose at least one scope." in refused.content.decode()


def test_an_administrator_makes_a_token_for_a_service_user(client, django_user_model):
    admin = django_user_model.objects.create_user("admin", password="admin-password-1", is_staff=True)
    service = django_user_model.objects.create_user("crm-service", password="crm-password-1")
    mailbox = make_mailbox(None, label="Sales")
    mailbox.authorized_users.add(service)
    client.force_login(admin)
    page = create(client, user=service.pk).content.decode()
    token = ApiToken.objects.get()
    assert token.user == service and token.created_by == admin
    secret = page.split('id="token-value">')[1].split("<")[0]
    client.logout()
    listed = client.get("/api/v1/mailboxes", **bearer(secret)).json()
    assert [m["label"] for m in listed] == ["Sales"]
    assert "crm-service" in AuditEvent.objects.get(action="api_token.created").detail["user"]


def test_nobody_revokes_a_token_they_cannot_see(client, django_user_model):
    alice = django_user_model.objects.create_user("alice", password="alice-password-1")
    bob = django_user_model.objects.create_user("bob", password="bob-password-1")
    make_token(alice)
    token = ApiToken.objects.get()
    client.force_login(bob)
    assert client.post(reverse("api-tokens:revoke", args=[token.pk])).status_code == 404
    assert "alice app" not in client.get(PAGE).content.decode()
    assert ApiToken.objects.get().revoked_at is None
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(alice)
    assert "expired" in client.get(PAGE).content.decode()
