"""Housekeeping writes: delete what nothing needs any more. Every step deletes in small batches,
one transaction each, so it never holds SQLite's write lock (or many PostgreSQL row locks) for
long, and any step may be interrupted and run again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inboxbridge.jobs.models import SyncRun, WorkerHeartbeat
from inboxbridge.mail import blobs
from inboxbridge.mail.models import Attachment, Blob
from inboxbridge.sending.models import DraftAttachment

logger = logging.getLogger(__name__)

BATCH = 1000
HEARTBEAT_ROW_RETENTION = timedelta(days=1)


class WorkerLost(Exception):
    """Recorded on a database-backend task whose worker stopped beating while running it."""


def run_housekeeping() -> dict[str, int]:
    now = timezone.now()
    done = {
        "orphan_blobs": delete_orphan_blobs(),
        "attachment_files": sweep_attachment_files(),
        "task_results": prune_task_results(now - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS)),
        "abandoned_tasks": fail_abandoned_tasks(now),
        "sync_runs": _delete_in_batches(
            SyncRun.objects.filter(started_at__lt=now - timedelta(hours=max(settings.SYNC_RUN_RETENTION_HOURS, 1)))
        ),
        "heartbeats": _delete_in_batches(WorkerHeartbeat.objects.filter(seen_at__lt=now - HEARTBEAT_ROW_RETENTION)),
        "expired_sessions": clear_expired_sessions(now),
    }
    if settings.TASKS_BACKEND == "redis":
        done["rq_failed_jobs"] = prune_rq_failed_jobs(now - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS))
    if any(done.values()):
        logger.info("Housekeeping: %s", ", ".join(f"{n} {what}" for what, n in done.items() if n))
    return done


def _delete_in_batches(queryset: models.QuerySet, *, guard: Callable[[models.QuerySet], models.QuerySet] | None = None
                       ) -> int:
    """Delete the rows of `queryset` BATCH at a time; `guard` re-applies a condition in the
    DELETE itself for rows that may gain a reason to live between the SELECT and the DELETE."""
    total = 0
    model = queryset.model
    while True:
        with transaction.atomic():
            pks = list(queryset.values_list("pk", flat=True)[:BATCH])
            if not pks:
                return total
            doomed = model._default_manager.filter(pk__in=pks)
            total += (guard(doomed) if guard else doomed).delete()[0]


def delete_orphan_blobs() -> int:
    """Attachment contents no attachment points to any more (their mail was deleted or purged),
    nor a file uploaded into a draft (a sent draft's files live on only in the outbox's message)."""

    def unreferenced(queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(~Exists(Attachment.objects.filter(blob=OuterRef("pk"))),
                               ~Exists(DraftAttachment.objects.filter(blob=OuterRef("pk"))))

    store = blobs.attachment_files()
    # Their files get a day's grace from now (the sweep below goes by file time): a backup that
    # copies the database and then the attachment files finds every file the database names.
    for sha256 in unreferenced(Blob.objects.filter(data__isnull=True)).values_list("sha256", flat=True).iterator():
        store.keep(sha256)
    try:
        return _delete_in_batches(unreferenced(Blob.objects.all()), guard=unreferenced)
    except (ProtectedError, IntegrityError):
        # A sync linked one of them again between the check and the delete: it stays, and the
        # next run deletes whatever is still orphaned.
        logger.info("Orphan blob deletion met a blob in use again; the rest waits for the next run")
        return 0


def sweep_attachment_files() -> int:
    """Attachment files no Blob row names (their rows went a day ago, or a sync crashed between
    writing files and committing); files written or used within a day stay."""
    try:
        return blobs.sweep_attachment_files()
    except OSError as exc:
        logger.warning("Attachment files could not be swept (%s); the next run tries again", exc.strerror or exc)
        return 0


def clear_expired_sessions(now: datetime) -> int:
    """Sign-ins that have expired: Django never deletes their session rows by itself, and each
    still holds who was signed in (and a pending OAuth flow, if any)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if issubclass(store, DatabaseSessionStore):
        return _delete_in_batches(store.get_model_class().objects.filter(expire_date__lt=now))
    store.clear_expired()  # other engines: their own way (cache sessions expire by themselves)
    return 0


def prune_task_results(cutoff: datetime) -> int:
    return _delete_in_batches(DBTaskResult.objects.finished().filter(finished_at__lt=cutoff))


def fail_abandoned_tasks(now: datetime) -> int:
    """Database backend: a task stays RUNNING forever when its worker is killed. Mark it failed
    once the worker has stopped beating (the mailbox itself was recovered through its lease)."""
    stale_before = now - timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS)
    alive = {
        loop_id.rsplit(":", 1)[0]
        for loop_id in WorkerHeartbeat.objects.filter(role=WorkerHeartbeat.Role.WORKER, seen_at__gte=stale_before)
        .values_list("loop_id", flat=True)
    }
    failed = 0
    for result in DBTaskResult.objects.running().filter(started_at__lt=stale_before).iterator():
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            current = DBTaskResult.objects.running().select_for_update().filter(pk=result.pk).first()
            if current is None:
                continue
            current.set_failed(WorkerLost(f"worker {current.worker_ids[-1] if current.worker_ids else '?'} stopped"))
            failed += 1
    return failed


def prune_rq_failed_jobs(cutoff: datetime) -> int:
    """RQ expires finished jobs by itself (result_ttl) but keeps failed ones for a year."""
    # Here: RQ is an optional dependency (the `redis` extra), installed only with that backend.
    import django_rq
    from rq.job import Job
    from rq.registry import FailedJobRegistry

    removed = 0
    for name in settings.RQ_QUEUES:
        queue = django_rq.get_queue(name)
        registry = FailedJobRegistry(queue=queue)
        ids = registry.get_job_ids()
        for start in range(0, len(ids), BATCH):
            for job in Job.fetch_many(ids[start:start + BATCH], connection=queue.connection):
                if job is None:
                    continue
                ended = job.ended_at or job.enqueued_at
                if ended is not None and ended.replace(tzinfo=cutoff.tzinfo) < cutoff:
                    registry.remove(job, delete_job=True)
                    removed += 1
    return removed
