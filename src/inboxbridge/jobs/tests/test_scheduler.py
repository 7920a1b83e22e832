"""The scheduler enqueues each due, enabled mailbox once, however often and by however many
schedulers it is asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.jobs import leases
from inboxbridge.jobs.models import PeriodicJob
from inboxbridge.jobs.scheduler import request_sync, tick
from inboxbridge.jobs.tests.helpers import enqueued_mailboxes
from inboxbridge.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db


def enable_office365() -> None:
    from inboxbridge.configuration.models import StoredSetting
    from inboxbridge.microsoft.config import EMAIL_SYNC_ENABLED

    StoredSetting.objects.update_or_create(key=EMAIL_SYNC_ENABLED.key, defaults={"value": "1"})


def test_each_due_mailbox_is_enqueued_once_however_many_ticks(recorded_tasks):
    due = [make_mailbox(), make_mailbox(next_sync_at=None)]
    make_mailbox(next_sync_at=timezone.now() + timedelta(minutes=1))  # not due yet
    assert tick().enqueued == 2
    assert tick().enqueued == 0
    assert tick().enqueued == 0
    assert enqueued_mailboxes(recorded_tasks) == sorted(m.pk for m in due)
    for mailbox in due:
        mailbox.refresh_from_db()
        assert mailbox.lease_owner.startswith("queued:")


def test_two_schedulers_claiming_the_same_due_set_split_it_without_overlap():
    ids = {make_mailbox().pk for _ in range(30)}
    first = leases.claim_due(20, office365_enabled=False)
    second = leases.claim_due(20, office365_enabled=False)
    third = leases.claim_due(20, office365_enabled=False)
    assert len(first) == 20 and len(second) == 10 and third == []
    assert set(first) | set(second) == ids
    assert not set(first) & set(second)


@pytest.mark.parametrize("fields", [
    {"active": False},
    {"sync_enabled": False},
    {"needs_reconnect": True},
    {"account_type": Mailbox.AccountType.OFFICE365},  # the integration is disabled
])
def test_mailboxes_whose_sync_is_disabled_are_not_scheduled(recorded_tasks, fields):
    make_mailbox(**fields)
    assert tick().enqueued == 0
    assert enqueued_mailboxes(recorded_tasks) == []


def test_office365_mailboxes_are_scheduled_while_the_integration_is_enabled(recorded_tasks):
    mailbox = make_mailbox(account_type=Mailbox.AccountType.OFFICE365)
    enable_office365()
    assert tick().enqueued == 1
    assert enqueued_mailboxes(recorded_tasks) == [mailbox.pk]


def test_a_dead_workers_expired_lease_is_taken_over_and_a_live_one_is_not(recorded_tasks):
    past, future = timezone.now() - timedelta(seconds=5), timezone.now() + timedelta(minutes=5)
    dead = make_mailbox(lease_owner="host:1/abc", lease_expires_at=past)
    make_mailbox(lease_owner="host:2/def", lease_expires_at=future)
    lost_in_queue = make_mailbox(lease_owner="queued:1234", lease_expires_at=past)
    assert tick().enqueued == 2
    assert enqueued_mailboxes(recorded_tasks) == sorted([dead.pk, lost_in_queue.pk])


def test_housekeeping_is_enqueued_once_per_interval_across_schedulers(recorded_tasks, settings):
    settings.HOUSEKEEPING_INTERVAL_SECONDS = 3600
    assert tick().housekeeping is True
    assert tick().housekeeping is False
    PeriodicJob.objects.filter(name="housekeeping").update(next_run_at=timezone.now() - timedelta(seconds=1))
    assert tick().housekeeping is True
    assert [r.task.name for r in recorded_tasks].count("housekeeping") == 2


def test_sync_now_enqueues_once_and_not_again_while_queued(recorded_tasks, django_capture_on_commit_callbacks):
    mailbox = make_mailbox(next_sync_at=timezone.now() + timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        request_sync(mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        request_sync(mailbox)
    assert enqueued_mailboxes(recorded_tasks) == [mailbox.pk]
    assert tick().enqueued == 0  # already queued: the scheduler leaves it alone


def test_sync_now_during_a_running_sync_makes_it_come_back_at_once(recorded_tasks, fake_engine,
                                                                   django_capture_on_commit_callbacks):
    mailbox = make_mailbox()

    def user_presses_sync_now(mailbox_id, progress):
        with django_capture_on_commit_callbacks(execute=True):
            request_sync(Mailbox.objects.get(pk=mailbox_id))

    fake_engine.during = user_presses_sync_now
    from inboxbridge.jobs.runner import run_sync

    assert run_sync(mailbox.pk).outcome == "ok"
    assert enqueued_mailboxes(recorded_tasks) == []  # it was running: nothing enqueued then...
    mailbox.refresh_from_db()
    assert mailbox.next_sync_at <= timezone.now()  # ...but it is due again at once
    assert tick().enqueued == 1
