"""Webhooks end to end against real Postfix and Dovecot: mail delivered through Postfix becomes
one signed message.new per message at a local receiver after the sync; a receiver that is down,
then failing, then up again gets every event exactly once, in order; a day of failures gives up,
marks the endpoint failing and tells the administrators."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from inboxbridge.autoresponse.tests.helpers import person, sync, system_mailbox
from inboxbridge.mail.models import Email
from inboxbridge.notifications.incidents import failing_webhooks
from inboxbridge.notifications.models import Kind
from inboxbridge.sync.tests.helpers import make_message
from inboxbridge.webhooks.delivery import deliver_due
from inboxbridge.webhooks.models import Delivery, Endpoint
from inboxbridge.webhooks.tests.receiver import Receiver, clock_moved

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("_private_allowed")]


@pytest.fixture(autouse=True)
def _stack_settings(settings, mail_stack, identity):
    settings.CA_BUNDLE = str(identity.ca_file)


def register(client, admin, url: str, events=("message.new",)) -> str:
    """An administrator adds an endpoint on System > Configuration > Integrations > Webhooks; returns its secret."""
    client.force_login(admin)
    page = client.post(reverse("system-webhooks:list"), {"url": url, "events": list(events), "description": "CRM"})
    assert page.status_code == 200, page.content.decode()[:2000]
    return page.context["created"].secret


def deliver_mail(mail_stack, mailbox, subjects: list[str]) -> None:
    sender = person(mail_stack, "carol")
    for subject in subjects:
        mail_stack.deliver(make_message(subject, sender=f"Carol <{sender}>", to=mailbox.email_address),
                           to=mailbox.email_address, sender=sender)


def test_each_message_delivered_through_postfix_reaches_the_receiver_once_signed(
        mail_stack, admin_user, client, receiver):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    secret = register(client, admin_user, receiver.url)
    subjects = ["Printer on fire", "Invoice 4711", "Lunch?"]
    deliver_mail(mail_stack, help_desk, subjects)

    assert sync(help_desk) == 3  # the runner hands the recorded events to the delivery task

    assert len(receiver.requests) == 3
    documents = [request.verify(secret) for request in receiver.requests]
    assert [d["type"] for d in documents] == ["message.new"] * 3
    assert [d["data"]["subject"] for d in documents] == subjects
    emails = {e.pk: e for e in Email.objects.filter(mailbox=help_desk)}
    for document in documents:
        email = emails[document["data"]["email_id"]]
        assert document["data"]["mailbox_id"] == help_desk.pk
        assert document["data"]["internet_message_id"] == email.message_id
        assert document["data"]["from"].startswith("carol-")
    assert len({request.id for request in receiver.requests}) == 3
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in receiver.requests)

    # A second sync with nothing new sends nothing again.
    sync(help_desk)
    assert len(receiver.requests) == 3
    page = client.get(reverse("system-webhooks:endpoint", args=[Endpoint.objects.get().pk]))
    assert page.content.decode().count(">Delivered<") == 3


def test_a_receiver_down_then_failing_then_up_gets_every_event_once_in_order(mail_stack, admin_user, client):
    receiver = Receiver()  # not started: connections are refused
    help_desk = system_mailbox(mail_stack, "Help Desk")
    sales = system_mailbox(mail_stack, "Sales")
    secret = register(client, admin_user, receiver.url)
    deliver_mail(mail_stack, help_desk, ["one", "two", "three"])
    deliver_mail(mail_stack, sales, ["alpha", "beta"])
    sync(help_desk)
    sync(sales)

    # Only each mailbox's first event was tried; the others wait behind it.
    pending = Delivery.objects.order_by("event_id")
    assert [d.attempts for d in pending] == [1, 0, 0, 1, 0]
    assert "Could not connect" in pending[0].response_excerpt

    try:
        receiver.status = 500
        receiver.start()
        assert deliver_due(budget_seconds=10) == 0  # the retry is not due yet
        with clock_moved(timedelta(seconds=31)):
            deliver_due(budget_seconds=10)
        assert len(receiver.requests) == 2  # each mailbox's head once more, nothing behind them
        assert {r.document["data"]["subject"] for r in receiver.requests} == {"one", "alpha"}
        head = Delivery.objects.order_by("event_id").first()
        assert head.attempts == 2 and head.response_status == 500 and "receiver says no" in head.response_excerpt

        receiver.status = 200
        with clock_moved(timedelta(seconds=61)):
            deliver_due(budget_seconds=20)  # the second wait is twice the first
        with clock_moved(timedelta(seconds=92)):
            deliver_due(budget_seconds=20)
    finally:
        receiver.stop()

    accepted = receiver.accepted
    assert len(accepted) == 5 and len({r.id for r in accepted}) == 5  # every event, once
    by_mailbox: dict[int, list[str]] = {}
    for request in accepted:
        document = request.verify(secret)
        by_mailbox.setdefault(document["data"]["mailbox_id"], []).append(document["data"]["subject"])
    assert by_mailbox == {help_desk.pk: ["one", "two", "three"], sales.pk: ["alpha", "beta"]}
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.DELIVERED}


def test_a_day_of_failures_gives_up_marks_the_endpoint_failing_and_tells_the_admins(
        mail_stack, admin_user, client, receiver):
    help_desk = system_mailbox(mail_stack, "Help Desk")
    register(client, admin_user, receiver.url)
    receiver.status = 503
    deliver_mail(mail_stack, help_desk, ["first", "second"])
    sync(help_desk)
    for hours in (1, 6, 12, 23, 25):
        with clock_moved(timedelta(hours=hours)):
            deliver_due(budget_seconds=10)
    first, second = Delivery.objects.order_by("event_id")
    assert first.status == Delivery.Status.GAVE_UP and first.attempts >= 5
    endpoint = Endpoint.objects.get()
    assert endpoint.state == Endpoint.State.FAILING
    incidents = list(failing_webhooks())
    assert [(i.user, i.kind) for i in incidents] == [(admin_user, Kind.WEBHOOK_FAILING)]
    assert receiver.url in incidents[0].body and "503" not in incidents[0].subject

    # The receiver works again: the next event goes, and the endpoint is active again.
    receiver.status = 200
    with clock_moved(timedelta(hours=25, minutes=5)):
        deliver_due(budget_seconds=10)
    second.refresh_from_db()
    endpoint.refresh_from_db()
    assert second.status == Delivery.Status.GAVE_UP  # its day was over too
    client.force_login(admin_user)
    client.post(reverse("system-webhooks:resend", args=[endpoint.pk, first.pk]))
    first.refresh_from_db()
    endpoint.refresh_from_db()
    assert first.status == Delivery.Status.DELIVERED and endpoint.state == Endpoint.State.ACTIVE
    assert receiver.accepted[-1].document["data"]["subject"] == "first"
