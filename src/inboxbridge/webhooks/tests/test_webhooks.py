"""Webhooks without a mail server: secret rotation (both secrets verify during the overlap), the
SSRF guard and redirects, who may register what and who receives which events, and the secret
shown once and kept encrypted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from tests.factories import make_mailbox

from inboxbridge.events.actions import record_event
from inboxbridge.events.models import Event, EventType
from inboxbridge.mail.actions import mark_flagged
from inboxbridge.mail.models import Email
from inboxbridge.webhooks import actions
from inboxbridge.webhooks.delivery import deliver_due
from inboxbridge.webhooks.models import Delivery, Endpoint
from inboxbridge.webhooks.tests.receiver import Receiver, clock_moved

pytestmark = pytest.mark.django_db


def new_message(mailbox, subject: str = "Hello") -> Event:
    return record_event(EventType.MESSAGE_NEW, mailbox.pk, {"subject": subject})


@pytest.mark.usefixtures("_private_allowed")
def test_after_a_rotation_both_secrets_verify_until_the_old_one_expires(admin_user, receiver, settings):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    mailbox = make_mailbox(None)
    created = actions.create_endpoint(admin_user, owner=None, url=receiver.url, events=["message.new"], mailbox=None)
    new_message(mailbox, "before")
    deliver_due(budget_seconds=5)
    new_secret = actions.rotate_secret(admin_user, created.endpoint)
    assert new_secret != created.secret and new_secret.startswith("whsec_")
    new_message(mailbox, "during")
    deliver_due(budget_seconds=5)
    with clock_moved(timedelta(hours=24, minutes=1)):
        new_message(mailbox, "after")
        deliver_due(budget_seconds=5)

    before, during, after = receiver.requests
    assert before.verify(created.secret)["data"]["subject"] == "before"
    with pytest.raises(WebhookVerificationError):
        before.verify(new_secret)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verify(created.secret) == during.verify(new_secret)  # either secret passes
    # Once the overlap is over, only the new secret signs (checked at the signing time: the library
    # refuses timestamps more than 5 minutes off its clock).
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    timestamp = int(after.headers["webhook-timestamp"])
    expected = Webhook(new_secret).sign(after.id, _at(timestamp), after.body)
    assert after.headers["webhook-signature"] == expected
    assert Webhook(created.secret).sign(after.id, _at(timestamp), after.body) != expected


def _at(timestamp: int):
    from datetime import UTC, datetime  # only here: the signing time of a delivery made with a moved clock

    return datetime.fromtimestamp(timestamp, UTC)


def test_private_addresses_are_refused_unless_allowed(admin_user, client, receiver, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(admin_user)
    for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost"), "http://169.254.169.254/latest"):
        page = client.post(reverse("system-webhooks:list"), {"url": url, "events": ["message.new"]})
        assert page.status_code == 400
        assert "private or reserved network" in page.content.decode()
    assert not Endpoint.objects.exists()

    # An endpoint saved while allowed is not sent to once it is not (checked before each send).
    endpoint = actions.create_endpoint(admin_user, owner=None, url=receiver.url, events=["message.new"],
                                       mailbox=None).endpoint
    new_message(make_mailbox(None))
    deliver_due(budget_seconds=5)
    assert receiver.requests == []
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.response_excerpt.startswith("Not sent: 127.0.0.1 is on a private or reserved network")


@pytest.mark.usefixtures("_private_allowed")
def test_redirects_are_not_followed(admin_user, receiver):
    elsewhere = Receiver().start()
    try:
        receiver.status, receiver.location = 307, elsewhere.url
        actions.create_endpoint(admin_user, owner=None, url=receiver.url, events=["message.new"], mailbox=None)
        new_message(make_mailbox(None))
        deliver_due(budget_seconds=5)
    finally:
        elsewhere.stop()
    assert len(receiver.requests) == 1 and elsewhere.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.response_status == 307
    assert "redirects are not followed" in delivery.response_excerpt


@pytest.mark.usefixtures("_private_allowed")
def test_a_user_cannot_filter_on_a_mailbox_they_cannot_read(client, plain_user, receiver):
    others = make_mailbox()
    system = make_mailbox(None)
    client.force_login(plain_user)
    for mailbox in (others, system):
        page = client.post(reverse("webhooks:list"), {"url": receiver.url, "events": ["message.new"],
                                                      "mailbox": mailbox.pk})
        assert page.status_code == 400
        assert "only of mailboxes its owner may read" in page.content.decode()
    assert not Endpoint.objects.exists()
    assert client.get(reverse("system-webhooks:list")).status_code == 403


@pytest.mark.usefixtures("_private_allowed")
def test_a_user_receives_only_events_of_mailboxes_they_can_see(client, plain_user, admin_user, receiver):
    own = make_mailbox(plain_user)
    others = make_mailbox()
    system = make_mailbox(None)
    client.force_login(plain_user)
    page = client.post(reverse("webhooks:list"), {"url": receiver.url, "events": ["message.new", "message.updated"]})
    assert page.status_code == 200
    secret = page.context["created"].secret
    new_message(own, "mine")
    new_message(others, "someone else's")
    new_message(system, "system before access")
    deliver_due(budget_seconds=5)
    system.authorized_users.add(plain_user)
    new_message(system, "system after access")
    deliver_due(budget_seconds=5)
    assert [r.verify(secret)["data"]["subject"] for r in receiver.requests] == ["mine", "system after access"]

    # An administrator's endpoint for one mailbox gets that mailbox's events only.
    actions.create_endpoint(admin_user, owner=None, url=receiver.url + "?admin", events=["message.new"],
                            mailbox=others)
    new_message(own, "mine again")
    new_message(others, "theirs again")
    deliver_due(budget_seconds=5)
    to_admin = [r.document["data"]["subject"] for r in receiver.requests if r.path.endswith("?admin")]
    to_user = [r.document["data"]["subject"] for r in receiver.requests if not r.path.endswith("?admin")]
    assert to_admin == ["theirs again"]
    assert to_user == ["mine", "system after access", "mine again"]
    other_user_page = client.get(reverse("webhooks:endpoint", args=[Endpoint.objects.get(owner__isnull=True).pk]))
    assert other_user_page.status_code == 404


@pytest.mark.usefixtures("_private_allowed")
def test_the_secret_is_shown_once_and_kept_encrypted(client, plain_user, receiver):
    client.force_login(plain_user)
    page = client.post(reverse("webhooks:list"), {"url": receiver.url, "events": ["message.new"]})
    secret = page.context["created"].secret
    assert secret in page.content.decode() and page["Cache-Control"].startswith("max-age=0")
    endpoint = Endpoint.objects.get()
    assert secret not in client.get(reverse("webhooks:endpoint", args=[endpoint.pk])).content.decode()
    assert secret not in client.get(reverse("webhooks:list")).content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_endpoint")
        stored = cursor.fetchone()[0]
    assert secret not in stored and secret[6:] not in stored
    rotated = client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret in rotated.content.decode() and endpoint.secret != secret


@pytest.mark.usefixtures("_private_allowed")
def test_a_readers_click_is_a_message_updated_event(plain_user, receiver):
    mailbox = make_mailbox(plain_user)
    email = Email.objects.create(mailbox=mailbox, message_key="k1", subject="Quarterly figures")
    created = actions.create_endpoint(plain_user, owner=plain_user, url=receiver.url, events=["message.updated"],
                                      mailbox=None)
    assert mark_flagged([email.pk], True) == [email.pk]
    assert mark_flagged([email.pk], True) == []  # no change, no event
    deliver_due(budget_seconds=5)
    [request] = receiver.requests
    assert request.verify(created.secret) == {
        "type": "message.updated", "timestamp": request.document["timestamp"],
        "data": {"mailbox_id": mailbox.pk, "email_id": email.pk, "is_seen": False, "is_flagged": True, "by": "user"},
    }
