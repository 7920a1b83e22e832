"""Password sign-in against guessing: a user name or an address that keeps failing is locked for a
while, the sign-in page says so, every failure is recorded, and administrators can unlock."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inboxbridge.accounts.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
LOCKED = "Too many failed sign-ins; try again in 15 minutes or ask an administrator."


@pytest.fixture(autouse=True)
def five_failures_for_fifteen_minutes(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7", **extra: str):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/mail/"},
                       REMOTE_ADDR=address, **extra)


def fail(client: Client, times: int, username: str = "alice", address: str = "203.0.113.7", **extra: str):
    for _ in range(times):
        response = sign_in(client, username, "not-her-password", address, **extra)
    return response


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/mail/"


def test_five_wrong_passwords_lock_the_account_and_even_the_right_one_is_refused(client, plain_user):
    wrong = fail(client, 4)
    assert wrong.status_code == 200 and "didn't match" in wrong.content.decode()

    locked = fail(client, 1)
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert 'name="password"' in locked.content.decode()  # the sign-in page, not a bare error text

    right = sign_in(client, "alice", "alice-password-1")
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lock_on_a_user_holds_from_every_address(client, plain_user):
    for number in range(5):  # one guess each from five addresses
        fail(client, 1, address=f"198.51.100.{number + 1}")

    elsewhere = sign_in(Client(), "alice", "alice-password-1", address="192.0.2.99")
    assert elsewhere.status_code == 429 and LOCKED in elsewhere.content.decode()


def test_one_address_trying_many_users_is_locked_for_all_of_them(client, plain_user, django_user_model):
    for name in ["bob", "carol", "dave", "erin", "frank"]:  # one guess at each of many accounts
        fail(client, 1, username=name, address="203.0.113.50")

    spraying = sign_in(client, "alice", "alice-password-1", address="203.0.113.50")
    assert spraying.status_code == 429 and LOCKED in spraying.content.decode()
    # alice herself, from her own address, is not locked by someone else's spraying.
    assert signed_in(sign_in(Client(), "alice", "alice-password-1", address="192.0.2.10"))


def test_every_failure_is_recorded_with_user_name_and_address_never_the_password(client, plain_user, caplog):
    with caplog.at_level(logging.WARNING, logger="inboxbridge.accounts.audit"):
        fail(client, 5)

    failures = AccessFailureLog.objects.filter(username="alice", ip_address="203.0.113.7")
    assert failures.count() == 5 and failures.filter(locked_out=True).count() == 1
    assert "not-her-password" not in "".join(AccessAttempt.objects.values_list("post_data", flat=True))
    lines = [record.getMessage() for record in caplog.records]
    assert lines.count("Password sign-in failed for user name 'alice' from 203.0.113.7") == 4
    assert "Password sign-in refused: locked for user name 'alice' from 203.0.113.7" in lines
    assert not any("not-her-password" in line for line in lines)
    event = AuditEvent.objects.get(action="sign_in.locked")
    assert event.target == "alice" and event.detail == {"address": "203.0.113.7", "failures": 5}

    fail(client, 2)  # failures while locked are recorded, the lock is audited once
    assert AccessFailureLog.objects.filter(username="alice").count() == 7
    assert AuditEvent.objects.filter(action="sign_in.locked").count() == 1


def test_the_lock_ends_after_the_cool_off(client, plain_user):
    fail(client, 5)
    assert sign_in(client, "alice", "alice-password-1").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert signed_in(sign_in(client, "alice", "alice-password-1"))


def test_the_page_names_the_configured_cool_off(client, plain_user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    assert "try again in 1 minute or ask" in fail(client, 5).content.decode()


def test_an_administrator_unlocks_a_user(client, plain_user):
    fail(client, 5)
    call_command("axes_reset_username", "alice")
    assert signed_in(sign_in(client, "alice", "alice-password-1"))


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, plain_user, settings):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    for number in range(5):
        # A client cannot pick its address by sending X-Forwarded-For itself: the proxy appends the
        # real one, and that is the one counted.
        fail(client, 1, username=f"user{number}", address="10.0.0.2",
             HTTP_X_FORWARDED_FOR=f"192.0.2.{number}, 203.0.113.9")
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}

    other_client = sign_in(Client(), "alice", "alice-password-1", address="10.0.0.2",
                           HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert signed_in(other_client)  # same proxy, another client: not locked
    same_client = sign_in(Client(), "alice", "alice-password-1", address="10.0.0.2",
                          HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert same_client.status_code == 429
