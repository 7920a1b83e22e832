"""Mailbox alerts: while a system mailbox's sign-in is refused, or its sync has failed a set number
of times in a row, the administrators and its authorized users (directly or through a role) who
hold "Can receive mailbox alerts" see it on every page; nobody else does, and only the
administrators get the link to the mailbox's settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.mailboxes.alerts import alert_recipients, current_alerts, mailbox_alerts_for
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.tests.test_service_commands import fresh_env, inboxbridge

pytestmark = pytest.mark.django_db

PAGE = reverse("mailboxes:email-configuration")  # any page shows the alerts
LIST = reverse("mailbox-settings:system-mailboxes")
FAILING = "IMAP login to imap.example.test failed: connection refused"


def receive_alerts() -> Permission:
    return Permission.objects.get(content_type__app_label="mailboxes", codename="receive_mailbox_alerts")


@pytest.fixture
def people(django_user_model):
    """An administrator, and users who may read the mailbox or not, with the permission or not."""
    make = django_user_model.objects.create_user
    users = {
        "admin": make("admin", "admin@example.test", "pw-admin-1", is_staff=True),
        "reader": make("reader", "reader@example.test", "pw-reader-1"),  # authorized, no permission
        "watcher": make("watcher", "watcher@example.test", "pw-watcher-1"),  # authorized, permission
        "member": make("member", "member@example.test", "pw-member-1"),  # in the role, which has the permission
        "outsider": make("outsider", "outsider@example.test", "pw-outsider-1"),  # permission, not authorized
    }
    users["watcher"].user_permissions.add(receive_alerts())
    users["outsider"].user_permissions.add(receive_alerts())
    role = Group.objects.create(name="Support team")
    role.permissions.add(receive_alerts())
    users["member"].groups.add(role)
    return users


@pytest.fixture
def support(people):
    mailbox = make_mailbox(None, label="Support", email_address="support@example.test",
                           account_type=Mailbox.AccountType.OFFICE365, signed_in_as="support@example.test",
                           last_success_at=timezone.now() - timedelta(hours=3))
    mailbox.authorized_users.set([people["reader"], people["watcher"]])
    mailbox.authorized_roles.set(Group.objects.filter(name="Support team"))
    return mailbox


def banner(client, user) -> str:
    client.force_login(user)
    response = client.get(PAGE)
    assert response.status_code == 200
    return response.content.decode()


def test_a_refused_sign_in_alerts_the_admin_with_a_link_and_each_permitted_reader_without(client, people, support):
    support.needs_reconnect, support.reconnect_reason = True, "AADSTS50173: the grant was revoked."
    support.save()
    page = reverse("mailbox-settings:system-mailbox", args=[support.pk])
    for_admin = banner(client, people["admin"])
    assert "System mailbox Support (support@example.test): Microsoft refused its sign-in" in for_admin
    assert "AADSTS50173" in for_admin and "click Reconnect, signing in as support@example.test" in for_admin
    assert f'href="{page}"' in for_admin
    for name in ("watcher", "member"):
        text = banner(client, people[name])
        assert f"id=\"system-mailbox-alert-{support.pk}\"" in text and "Microsoft refused its sign-in" in text
        assert "An administrator has to reconnect it" in text and page not in text
    for name in ("reader", "outsider"):
        assert "system-mailbox-alert" not in banner(client, people[name])


def test_a_sync_that_keeps_failing_alerts_at_the_threshold_only(client, people, support, settings):
    settings.MAILBOX_ALERT_AFTER_FAILURES = 3
    support.state, support.last_error, support.failure_count = Mailbox.State.ERROR, FAILING, 2
    support.save()
    assert "system-mailbox-alert" not in banner(client, people["admin"])
    assert mailbox_alerts_for(people["watcher"]) == []

    support.failure_count = 3
    support.save()
    text = banner(client, people["admin"])
    assert "synchronization failed 3 times in a row since" in text and FAILING in text
    assert f"{FAILING}. Open it to check its settings" in text
    [alert] = mailbox_alerts_for(people["member"])
    assert alert.mailbox == support and FAILING in alert.problem and alert.url == ""
    assert "The administrators are alerted too" in alert.advice

    # The first successful sync resets the count, and the alert goes.
    Mailbox.objects.filter(pk=support.pk).update(failure_count=0, state=Mailbox.State.IDLE, last_error="")
    assert "system-mailbox-alert" not in banner(client, people["admin"])


def test_revoking_the_role_or_the_permission_stops_the_alert(client, people, support):
    support.needs_reconnect = True
    support.save()
    assert mailbox_alerts_for(people["member"])
    support.authorized_roles.clear()
    assert mailbox_alerts_for(people["member"]) == []
    assert mailbox_alerts_for(people["watcher"])
    people["watcher"].user_permissions.clear()
    assert mailbox_alerts_for(type(people["watcher"]).objects.get(pk=people["watcher"].pk)) == []


def test_a_users_own_mailbox_and_a_deleted_system_mailbox_raise_no_system_alert(client, people, support):
    own = make_mailbox(people["watcher"], failure_count=50, needs_reconnect=True)
    Mailbox.objects.filter(pk=support.pk).update(failure_count=50, active=False)
    assert mailbox_alerts_for(people["admin"]) == [] and current_alerts() == []
    # The owner still gets their own Reconnect notice, as before.
    assert f"{own.email_address}: Email synchronization has been disabled" in banner(client, people["watcher"])


def test_the_system_mailboxes_list_shows_each_mailboxs_state(client, people, support, settings):
    settings.MAILBOX_ALERT_AFTER_FAILURES = 2
    calm = make_mailbox(None, label="Billing", failure_count=1, state=Mailbox.State.ERROR, last_error="Timed out")
    Mailbox.objects.filter(pk=support.pk).update(failure_count=4, state=Mailbox.State.ERROR, last_error=FAILING)
    client.force_login(people["admin"])
    rows = client.get(LIST).content.decode()
    row = rows[rows.index(f'id="system-mailbox-{support.pk}"'):]
    row = row[:row.index("</tr>")]
    assert "Alert" in row and "Error" in row and "4 failed syncs in a row" in row and FAILING in row
    calm_row = rows[rows.index(f'id="system-mailbox-{calm.pk}"'):]
    calm_row = calm_row[:calm_row.index("</tr>")]
    assert "Alert" not in calm_row and "1 failed sync in a row" in calm_row and "Timed out" in calm_row


def test_the_recipients_are_exactly_who_sees_the_alert(people, support):
    support.needs_reconnect = True
    support.save()
    shown = {name for name, user in people.items() if mailbox_alerts_for(user)}
    assert shown == {"admin", "watcher", "member"}
    assert {user.get_username() for user in alert_recipients(support)} == shown


def test_an_incident_keeps_its_key_while_failing_and_gets_a_new_one_after_a_success(people, support, settings):
    settings.MAILBOX_ALERT_AFTER_FAILURES = 1
    Mailbox.objects.filter(pk=support.pk).update(failure_count=1)
    [first] = current_alerts()
    Mailbox.objects.filter(pk=support.pk).update(failure_count=7)
    assert [alert.incident_key for alert in current_alerts()] == [first.incident_key]
    Mailbox.objects.filter(pk=support.pk).update(failure_count=1, last_success_at=timezone.now())
    [again] = current_alerts()
    assert again.incident_key != first.incident_key and again.incident_key.startswith(f"{support.pk}:")


@pytest.mark.parametrize("value", ["0", "often"])
def test_a_wrong_threshold_stops_the_service_with_its_name(tmp_path, value):
    checked = inboxbridge("manage", "check", env={**fresh_env(tmp_path),
                                                  "INBOXBRIDGE_MAILBOX_ALERT_AFTER_FAILURES": value})
    assert checked.returncode == 1 and "inboxbridge.E007" in checked.stderr
    assert "INBOXBRIDGE_MAILBOX_ALERT_AFTER_FAILURES must be" in checked.stderr
