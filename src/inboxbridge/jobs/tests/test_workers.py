"""Workers of both backends run the sync task: the embedded database worker of `serve`, and an
RQ worker against the real Redis (its own DB number, flushed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from tests.factories import make_mailbox

from inboxbridge.jobs.models import SyncRun, WorkerHeartbeat
from inboxbridge.jobs.scheduler import tick
from inboxbridge.jobs.tests.helpers import wait_for
from inboxbridge.jobs.worker import rq_worker, start_embedded_worker
from inboxbridge.mailboxes.models import Mailbox


@pytest.mark.django_db
def test_the_redis_path_runs_each_due_mailbox_once(fake_engine, redis_tasks):
    import django_rq

    mailboxes = [make_mailbox() for _ in range(5)]
    assert tick().enqueued == 5
    assert tick().enqueued == 0
    queue = django_rq.get_queue("default")
    queued = [job.func_name.rpartition(".")[2] for job in queue.get_jobs()]
    # One sync per mailbox, beside the periodic jobs (housekeeping and whatever else is due).
    assert queued.count("sync_mailbox") == 5 and "housekeeping" in queued
    assert rq_worker().work(burst=True) is True
    assert sorted(fake_engine.synced()) == sorted(m.pk for m in mailboxes)
    assert queue.count == 0 and len(queue.failed_job_registry) == 0
    # Given back and due one interval after its run (measured from the run, not from now: RQ's
    # burst exit may wait up to a minute for its pub/sub thread, longer than the interval).
    for mailbox in Mailbox.objects.filter(pk__in=[m.pk for m in mailboxes]):
        finished = SyncRun.objects.get(mailbox_id=mailbox.pk).finished_at
        assert mailbox.lease_owner == ""
        assert mailbox.next_sync_at == finished + timedelta(seconds=settings.SYNC_INTERVAL_SECONDS)
    assert SyncRun.objects.filter(outcome="ok").count() == 5


@pytest.mark.django_db(transaction=True)
def test_serve_keeps_mailboxes_synced_with_its_embedded_worker(fake_engine, settings):
    settings.TASKS_BACKEND = "database"
    settings.SCHEDULER_TICK_SECONDS = 1
    settings.SYNC_INTERVAL_SECONDS = 2
    mailboxes = [make_mailbox() for _ in range(3)]
    embedded = start_embedded_worker()
    try:
        roles = set(WorkerHeartbeat.objects.values_list("role", flat=True))
        assert roles == {"worker", "scheduler"}
        # Synced at once, then again every interval, with nobody pressing a button.
        assert wait_for(lambda: all(fake_engine.synced().count(m.pk) >= 2 for m in mailboxes), timeout=20)
    finally:
        embedded.stop()
    assert not WorkerHeartbeat.objects.exists()  # a clean stop is not a stale worker
    assert SyncRun.objects.filter(outcome="ok").count() >= 6
