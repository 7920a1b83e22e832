"""The administrators' mailbox list, and the sync status card other pages include."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.jobs.scheduler import request_sync
from inboxbridge.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db
URL = "/system/mailboxes/"


def test_non_admins_get_403_and_anonymous_visitors_sign_in_first(client, plain_user):
    assert client.get(URL).status_code == 302
    client.force_login(plain_user)
    assert client.get(URL).status_code == 403
    assert client.post(f"{URL}1/sync").status_code == 403


def test_every_mailbox_is_listed_with_owner_state_last_success_last_error_and_backlog(client, admin_user):
    now = timezone.now()
    ok = make_mailbox(email_address="fine@example.test", state=Mailbox.State.IDLE, last_success_at=now,
                      message_count=1234, backlog=0)
    broken = make_mailbox(email_address="broken@example.test", state=Mailbox.State.ERROR, failure_count=3,
                          last_error="IMAP login refused", backlog=17)
    system = make_mailbox(owner=None, email_address="support@example.test", label="Support")
    client.force_login(admin_user)
    page = client.get(URL).content.decode()
    for mailbox in (ok, broken, system):
        assert f'id="mailbox-{mailbox.pk}"' in page
    assert ok.owner.get_username() in page and "System" in page and "Support" in page
    assert "1,234" in page and "IMAP login refused" in page and "3 failures in a row" in page and ">17<" in page
    assert 'data-state="error"' in page and 'data-state="idle"' in page


def test_the_attention_filter_shows_failing_reconnect_and_overdue_mailboxes(client, admin_user, settings):
    settings.SYNC_INTERVAL_SECONDS = 60
    now = timezone.now()
    fine = make_mailbox(state=Mailbox.State.IDLE, last_success_at=now, next_sync_at=now + timedelta(seconds=30))
    failing = make_mailbox(state=Mailbox.State.ERROR, last_error="refused", failure_count=1)
    reconnect = make_mailbox(needs_reconnect=True, state=Mailbox.State.DISABLED, reconnect_reason="token revoked")
    overdue = make_mailbox(state=Mailbox.State.IDLE, last_success_at=now - timedelta(hours=1),
                           next_sync_at=now - timedelta(minutes=10))
    switched_off = make_mailbox(sync_enabled=False, next_sync_at=now - timedelta(hours=1))
    client.force_login(admin_user)
    page = client.get(URL + "?show=attention").content.decode()
    for mailbox in (failing, reconnect, overdue):
        assert f'id="mailbox-{mailbox.pk}"' in page
    for mailbox in (fine, switched_off):
        assert f'id="mailbox-{mailbox.pk}"' not in page
    assert '<strong id="attention-count">3</strong>' in page


def test_an_admin_can_request_a_sync_of_any_mailbox(client, admin_user, recorded_tasks,
                                                    django_capture_on_commit_callbacks):
    mailbox = make_mailbox(owner=None, next_sync_at=timezone.now() + timedelta(hours=1))
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{URL}{mailbox.pk}/sync", {"show": "attention"})
    assert response.status_code == 302 and response["Location"] == URL + "?show=attention"
    assert [r.args for r in recorded_tasks] == [[mailbox.pk]]


def test_the_system_menu_links_the_mailbox_list_for_staff_only(client, admin_user, plain_user):
    client.force_login(admin_user)
    assert f'href="{URL}"' in client.get("/mail/", follow=True).content.decode()
    client.force_login(plain_user)
    assert f'href="{URL}"' not in client.get("/mail/", follow=True).content.decode()


def render_status(mailbox: Mailbox) -> str:
    request = RequestFactory().get("/mail/?page=2")
    template = Template("{% load sync_status %}{% sync_status mailbox %}")
    return template.render(Context({"mailbox": mailbox, "request": request, "csrf_token": "tok"}))


def test_the_sync_status_card_shows_state_last_sync_count_and_sync_now():
    mailbox = make_mailbox(state=Mailbox.State.IDLE, last_sync_at=timezone.now() - timedelta(minutes=3),
                           last_success_at=timezone.now(), message_count=4321)
    html = render_status(mailbox)
    assert "Up to date" in html and "3\xa0minutes ago" in html and "4,321" in html
    assert 'id="sync-now"' in html and "disabled" not in html
    assert 'name="next" value="/mail/?page=2"' in html


@pytest.mark.parametrize("fields,label,reason", [
    ({"state": Mailbox.State.ERROR, "last_error": "Login refused", "failure_count": 1}, "Error", "Login refused"),
    ({"needs_reconnect": True, "reconnect_reason": "Please reconnect"}, "Disabled", "Please reconnect"),
    ({"sync_enabled": False}, "Disabled", "switched off"),
    ({"account_type": Mailbox.AccountType.OFFICE365}, "Disabled", "integration is disabled"),
    ({"last_success_at": None}, "Waiting for the first sync", ""),
])
def test_the_sync_status_card_explains_errors_and_disabled_mailboxes(fields, label, reason):
    html = render_status(make_mailbox(**fields))
    assert label in html and reason in html
    assert ('id="sync-now" disabled' in html) == (label == "Disabled")


def test_the_sync_status_card_says_syncing_while_a_worker_holds_the_lease(recorded_tasks):
    mailbox = make_mailbox(lease_owner="host:1/abc", lease_expires_at=timezone.now() + timedelta(minutes=1))
    assert "Syncing" in render_status(mailbox)
    request_sync(mailbox)  # queued behind the running sync: still shown as syncing
    mailbox.refresh_from_db()
    assert "Syncing" in render_status(mailbox)
