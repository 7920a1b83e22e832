"""Housekeeping deletes what nothing needs: orphan blobs, old task results and run records, and
fails database tasks whose worker died."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from tests.factories import make_mailbox

from inboxbridge.jobs import actions, tasks
from inboxbridge.jobs.housekeeping import run_housekeeping
from inboxbridge.jobs.models import SyncRun, WorkerHeartbeat
from inboxbridge.lib.content_store import ContentStore
from inboxbridge.mail.models import Attachment, Blob, Email

pytestmark = pytest.mark.django_db


def test_attachment_files_of_deleted_mail_go_a_day_later(settings, tmp_path):
    settings.ATTACHMENT_STORE, settings.ATTACHMENTS_DIR = "files", tmp_path
    store = ContentStore(tmp_path)
    email = Email.objects.create(mailbox=make_mailbox(), message_key="m1")
    digests = {}
    for name in ("in use", "mail deleted", "never committed"):
        data = name.encode()
        digests[name] = hashlib.sha256(data).hexdigest()
        store.put(digests[name], data)
    for name in ("in use", "mail deleted"):
        Blob.objects.create(sha256=digests[name], size=len(name), data=None)
    Attachment.objects.create(email=email, content_type="text/plain", blob_id=digests["in use"])

    def a_day_passes():
        for sha256 in digests.values():
            if store.path(sha256).exists():
                then = time.time() - 2 * 24 * 3600
                os.utime(store.path(sha256), (then, then))

    a_day_passes()
    done = run_housekeeping()
    assert (done["orphan_blobs"], done["attachment_files"]) == (1, 1)  # the crashed sync's file goes
    assert set(Blob.objects.values_list("sha256", flat=True)) == {digests["in use"]}
    assert not store.path(digests["never committed"]).exists()
    assert store.path(digests["mail deleted"]).exists()  # a day's grace from its row's deletion

    a_day_passes()
    assert run_housekeeping()["attachment_files"] == 1
    assert store.keep(digests["in use"]) and not store.keep(digests["mail deleted"])


def test_orphan_blobs_go_and_blobs_in_use_stay():
    mailbox = make_mailbox()
    used, orphan = Blob.objects.create(sha256="a" * 64, size=1, data=b"a"), Blob.objects.create(
        sha256="b" * 64, size=1, data=b"b")
    email = Email.objects.create(mailbox=mailbox, message_key="m1")
    Attachment.objects.create(email=email, content_type="text/plain", blob=used)
    assert run_housekeeping()["orphan_blobs"] == 1
    assert list(Blob.objects.values_list("sha256", flat=True)) == [used.sha256]
    assert not Blob.objects.filter(pk=orphan.pk).exists()


def test_finished_task_results_are_pruned_after_the_retention(settings):
    settings.TASK_RESULT_RETENTION_DAYS = 7
    old, recent, waiting = (tasks.purge_mailbox.enqueue(n) for n in (1, 2, 3))
    DBTaskResult.objects.filter(pk=old.id).update(status="SUCCESSFUL", finished_at=timezone.now() - timedelta(days=8))
    DBTaskResult.objects.filter(pk=recent.id).update(status="FAILED", finished_at=timezone.now() - timedelta(days=1))
    DBTaskResult.objects.filter(pk=waiting.id).update(enqueued_at=timezone.now() - timedelta(days=30))
    assert run_housekeeping()["task_results"] == 1
    assert set(DBTaskResult.objects.values_list("pk", flat=True)) == {recent.db_result.pk, waiting.db_result.pk}


def test_a_task_left_running_by_a_killed_worker_is_marked_failed(settings):
    settings.HEARTBEAT_MAX_AGE_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=10)
    orphaned, busy = tasks.purge_mailbox.enqueue(1), tasks.purge_mailbox.enqueue(2)
    DBTaskResult.objects.filter(pk=orphaned.id).update(status="RUNNING", started_at=long_ago, worker_ids=["dead:1"])
    DBTaskResult.objects.filter(pk=busy.id).update(status="RUNNING", started_at=long_ago, worker_ids=["live:2"])
    actions.record_heartbeat("live:2:worker", role="worker", hostname="live", pid=2, backend="database",
                             started_at=long_ago, tasks_done=0)
    assert run_housekeeping()["abandoned_tasks"] == 1
    failed = DBTaskResult.objects.get(pk=orphaned.id)
    assert failed.status == "FAILED" and "WorkerLost" in failed.exception_class_path
    assert DBTaskResult.objects.get(pk=busy.id).status == "RUNNING"


def test_old_sync_runs_and_heartbeats_of_vanished_workers_are_deleted(settings):
    settings.SYNC_RUN_RETENTION_HOURS = 24
    mailbox = make_mailbox()
    now = timezone.now()
    SyncRun.objects.create(mailbox=mailbox, worker_id="w", lease_token="t", started_at=now - timedelta(hours=25))
    kept = SyncRun.objects.create(mailbox=mailbox, worker_id="w", lease_token="t", started_at=now - timedelta(hours=1))
    for name, age in (("gone:1:worker", timedelta(days=2)), ("here:1:worker", timedelta(seconds=5))):
        actions.record_heartbeat(name, role="worker", hostname="h", pid=1, backend="database", started_at=now,
                                 tasks_done=0)
        WorkerHeartbeat.objects.filter(pk=name).update(seen_at=now - age)
    done = run_housekeeping()
    assert (done["sync_runs"], done["heartbeats"]) == (1, 1)
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(WorkerHeartbeat.objects.values_list("pk", flat=True)) == ["here:1:worker"]


def test_expired_sessions_are_cleared_and_live_ones_kept(client, plain_user):
    client.force_login(plain_user)
    live = client.session.session_key
    Session.objects.create(session_key="expired-sign-in", session_data="", expire_date=timezone.now()
                           - timedelta(minutes=1))

    assert run_housekeeping()["expired_sessions"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert client.get("/mail/").status_code == 200  # still signed in
