"""The sync task under its lease: one sync per mailbox at a time, the schedule after it, and
recovery from workers that die or stall."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.jobs import leases
from inboxbridge.jobs.models import SyncRun
from inboxbridge.jobs.runner import run_sync
from inboxbridge.jobs.scheduler import tick
from inboxbridge.jobs.tests.helpers import FakeResult
from inboxbridge.mailboxes.models import Mailbox

pytestmark = pytest.mark.django_db


def seconds_until(moment) -> float:
    return (moment - timezone.now()).total_seconds()


def test_a_sync_runs_with_the_time_budget_and_is_planned_one_interval_later(fake_engine, settings):
    settings.SYNC_TIME_BUDGET_SECONDS, settings.SYNC_INTERVAL_SECONDS = 45, 60
    mailbox = make_mailbox(failure_count=2)
    fake_engine.script[mailbox.pk] = [FakeResult(fetched=7)]
    summary = run_sync(mailbox.pk)
    assert (summary.outcome, summary.fetched) == ("ok", 7)
    assert fake_engine.calls == [(mailbox.pk, 45.0)]
    mailbox.refresh_from_db()
    assert 55 < seconds_until(mailbox.next_sync_at) <= 60
    assert (mailbox.failure_count, mailbox.lease_owner, mailbox.lease_expires_at) == (0, "", None)
    run = SyncRun.objects.get(mailbox=mailbox)
    assert (run.outcome, run.fetched, run.complete) == ("ok", 7, True)
    assert run.started_at <= run.finished_at


def test_a_slice_cut_short_by_the_budget_is_due_at_once_and_rescheduled(fake_engine, recorded_tasks):
    mailbox = make_mailbox()
    fake_engine.script[mailbox.pk] = [FakeResult(fetched=500, complete=False)]
    assert run_sync(mailbox.pk).outcome == "partial"
    mailbox.refresh_from_db()
    assert seconds_until(mailbox.next_sync_at) <= 0 and mailbox.failure_count == 0
    assert tick().enqueued == 1


def test_failures_back_off_and_a_success_resets_them(fake_engine, settings):
    settings.SYNC_INTERVAL_SECONDS, settings.SYNC_MAX_BACKOFF_SECONDS = 60, 200
    mailbox = make_mailbox()
    fake_engine.script[mailbox.pk] = [FakeResult(complete=False, error="connection lost")] * 3 + [FakeResult()]
    expected = [(1, 60), (2, 120), (3, 200)]
    for failures, delay in expected:
        Mailbox.objects.filter(pk=mailbox.pk).update(next_sync_at=timezone.now())
        assert run_sync(mailbox.pk).outcome == "error"
        mailbox.refresh_from_db()
        assert mailbox.failure_count == failures
        assert delay - 1 < seconds_until(mailbox.next_sync_at) <= delay * 1.1
    Mailbox.objects.filter(pk=mailbox.pk).update(next_sync_at=timezone.now())
    assert run_sync(mailbox.pk).outcome == "ok"
    mailbox.refresh_from_db()
    assert mailbox.failure_count == 0


def test_a_throttled_mailbox_waits_at_least_two_intervals(fake_engine, settings):
    settings.SYNC_INTERVAL_SECONDS = 60
    mailbox = make_mailbox()
    fake_engine.script[mailbox.pk] = [FakeResult(complete=False, error="LOGIN: [UNAVAILABLE] Server busy")]
    run_sync(mailbox.pk)
    mailbox.refresh_from_db()
    assert seconds_until(mailbox.next_sync_at) > 119


def test_an_engine_exception_is_a_failed_attempt_with_backoff(fake_engine):
    mailbox = make_mailbox()
    fake_engine.script[mailbox.pk] = [RuntimeError("boom password=hunter2")]
    summary = run_sync(mailbox.pk)
    assert summary.outcome == "error"
    assert "hunter2" not in summary.error
    mailbox.refresh_from_db()
    assert mailbox.failure_count == 1 and mailbox.lease_owner == ""


def test_a_mailbox_synced_by_another_worker_is_left_alone(fake_engine):
    mailbox = make_mailbox(lease_owner="elsewhere:1/abc", lease_expires_at=timezone.now() + timedelta(minutes=5))
    assert run_sync(mailbox.pk).ran is False
    assert fake_engine.calls == []


def test_a_twin_task_after_the_sync_finds_nothing_due(fake_engine):
    mailbox = make_mailbox()
    assert run_sync(mailbox.pk).ran is True
    assert run_sync(mailbox.pk).ran is False
    assert fake_engine.synced() == [mailbox.pk]


def test_a_dead_workers_mailbox_is_taken_over_once_its_lease_expires(fake_engine, settings):
    settings.SYNC_LEASE_SECONDS = 300
    mailbox = make_mailbox()
    dead = leases.acquire(mailbox.pk, "dead-host:1", office365_enabled=False)  # then killed: no release
    assert dead is not None
    assert run_sync(mailbox.pk).ran is False
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert run_sync(mailbox.pk).outcome == "ok"
    runs = list(SyncRun.objects.filter(mailbox=mailbox).order_by("started_at"))
    assert runs[0].worker_id == "dead-host:1"
    assert runs[0].finished_at is None and runs[1].finished_at is not None


def test_the_lease_is_renewed_while_the_engine_reports_progress(fake_engine, settings):
    settings.SYNC_LEASE_SECONDS = 3
    mailbox = make_mailbox()
    seen = []

    def slow_sync(mailbox_id, progress):
        for _ in range(3):
            time.sleep(1.05)
            progress(1, 3)
            seen.append(Mailbox.objects.get(pk=mailbox_id).lease_expires_at)

    fake_engine.during = slow_sync
    assert run_sync(mailbox.pk).outcome == "ok"
    assert seen[0] < seen[1] < seen[2]


def test_a_worker_that_lost_its_lease_stops_and_leaves_the_new_holders_schedule_alone(fake_engine, settings):
    settings.SYNC_LEASE_SECONDS = 3
    mailbox = make_mailbox()
    reached = []

    def stalled_then_overtaken(mailbox_id, progress):
        # This worker stalls past its lease; another one takes the mailbox over meanwhile.
        Mailbox.objects.filter(pk=mailbox_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        assert leases.acquire(mailbox_id, "other:2", office365_enabled=False) is not None
        Mailbox.objects.filter(pk=mailbox_id).update(next_sync_at=timezone.now() + timedelta(hours=1))
        time.sleep(1.1)
        progress(5, 10)
        reached.append("after progress")

    fake_engine.during = stalled_then_overtaken
    summary = run_sync(mailbox.pk)
    assert summary.outcome == "lease_lost" and reached == []
    mailbox.refresh_from_db()
    assert mailbox.lease_owner.startswith("other:2/")
    assert seconds_until(mailbox.next_sync_at) > 3000
    mine = SyncRun.objects.get(mailbox=mailbox, outcome="lease_lost")
    assert mine.finished_at is not None


def test_the_whole_loop_with_tasks_run_inline(fake_engine, inline_tasks):
    first, second = make_mailbox(), make_mailbox()
    assert tick().enqueued == 2
    assert sorted(fake_engine.synced()) == sorted([first.pk, second.pk])
    assert tick().enqueued == 0
    assert SyncRun.objects.filter(outcome="ok").count() == 2


def test_a_manual_sync_runs_even_when_not_due_but_never_beside_a_worker(fake_engine):
    mailbox = make_mailbox(next_sync_at=timezone.now() + timedelta(hours=1))
    reported = []
    fake_engine.during = lambda mailbox_id, progress: progress(3, 4)
    assert run_sync(mailbox.pk).ran is False  # the task: not due
    summary = run_sync(mailbox.pk, manual=True, time_budget=None, progress=lambda done, total: reported.append(done))
    assert summary.outcome == "ok" and reported == [3]
    assert fake_engine.calls == [(mailbox.pk, None)]
    Mailbox.objects.filter(pk=mailbox.pk).update(lease_owner="w:1/x", lease_expires_at=timezone.now()
                                                 + timedelta(minutes=1))
    assert run_sync(mailbox.pk, manual=True).ran is False
