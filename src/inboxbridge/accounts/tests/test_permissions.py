"""Who may open an administrators' page (accounts/permissions.py), and what the audit log records
of who did something (accounts/actions.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.accounts.models import AuditEvent
from inboxbridge.accounts.permissions import admin_required

pytestmark = pytest.mark.django_db


@admin_required
def admins_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("the administrators' page")


# This module is the URL configuration of the tests marked with it: the service's pages (the
# sign-in page among them) and one page behind admin_required.
urlpatterns = [path("admins-only/", admins_only), path("", include("inboxbridge.urls"))]
only_here = pytest.mark.urls(__name__)


@only_here
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client):
    response = client.get("/admins-only/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admins-only/"


@only_here
def test_a_signed_in_user_who_is_not_an_administrator_gets_403_not_a_sign_in_loop(client, plain_user):
    client.force_login(plain_user)
    response = client.get("/admins-only/")
    assert response.status_code == 403
    assert b"the administrators' page" not in response.content


@only_here
def test_an_administrator_gets_the_page(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admins-only/")
    assert response.status_code == 200 and response.content == b"the administrators' page"


@only_here
def test_staff_is_what_makes_an_administrator(client, django_user_model):
    staff = django_user_model.objects.create_user("operator", "operator@example.test", "pw-operator-1",
                                                  is_staff=True)
    client.force_login(staff)
    assert client.get("/admins-only/").status_code == 200
    staff.is_staff = False
    staff.save()
    assert client.get("/admins-only/").status_code == 403


def test_an_audit_event_names_the_signed_in_actor_and_keeps_the_detail(plain_user):
    record_audit_event(plain_user, "mailbox.configured", "alice@example.test", account_type="other")
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.target, event.detail) == (
        plain_user, "mailbox.configured", "alice@example.test", {"account_type": "other"})


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_an_audit_event_without_a_signed_in_actor_is_recorded_as_nobodys(actor):
    record_audit_event(actor, "sign_in.locked", "alice", failures=5)
    event = AuditEvent.objects.get()
    assert event.actor is None and (event.action, event.target, event.detail) == ("sign_in.locked", "alice",
                                                                                  {"failures": 5})
