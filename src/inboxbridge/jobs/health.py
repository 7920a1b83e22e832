"""The checks behind /healthz: database, task backend, worker and scheduler heartbeats.

Answers carry no secret and no infrastructure detail (hosts, URLs, error texts): the endpoint is
open to anyone who can reach it. The details go to the log."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Max
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inboxbridge.jobs.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 2.0


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database does not answer", exc_info=True)
        return {"ok": False, "error": "unreachable"}
    return {"ok": True, "vendor": connection.vendor}


def check_task_backend(database_ok: bool) -> dict[str, Any]:
    backend = settings.TASKS_BACKEND
    if backend == "redis":
        try:
            # Here: Redis and RQ are an optional dependency (the `redis` extra), only with that backend.
            from redis import Redis
            from rq import Queue

            # A client of its own with short timeouts: a hung Redis must not hang the probe.
            url = str(next(iter(settings.RQ_QUEUES.values()))["URL"])
            client = Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT)
            try:
                queued = sum(Queue(name, connection=client).count for name in settings.RQ_QUEUES)
            finally:
                client.close()
            return {"ok": True, "backend": backend, "queued": queued}
        except Exception:  # any client or network error means the same: no queue
            logger.warning("Health check: Redis does not answer", exc_info=True)
            return {"ok": False, "backend": backend, "error": "unreachable"}
    if backend == "database":
        if not database_ok:
            return {"ok": False, "backend": backend, "error": "database unreachable"}
        return {"ok": True, "backend": backend, "queued": DBTaskResult.objects.ready().count()}
    return {"ok": True, "backend": backend}


def check_heartbeats(role: str, now: datetime) -> dict[str, Any]:
    max_age = settings.HEARTBEAT_MAX_AGE_SECONDS
    beats = WorkerHeartbeat.objects.filter(role=role)
    newest = beats.aggregate(newest=Max("seen_at"))["newest"]
    alive = beats.filter(seen_at__gte=now - timedelta(seconds=max_age)).count()
    age = None if newest is None else round(max((now - newest).total_seconds(), 0.0), 1)
    return {"ok": alive > 0, "alive": alive, "heartbeat_age_seconds": age, "max_age_seconds": max_age}


def health(scope: str = "all") -> tuple[bool, dict[str, Any]]:
    """(healthy, report). scope "web" checks only what serving pages needs (the database), for
    load balancers that must not take the web tier out because the workers are down."""
    now = timezone.now()
    checks: dict[str, Any] = {"database": check_database()}
    if scope != "web":
        checks["tasks"] = check_task_backend(checks["database"]["ok"])
        roles = ["scheduler"] if settings.TASKS_BACKEND == "immediate" else ["worker", "scheduler"]
        for role in roles:
            if checks["database"]["ok"]:
                try:
                    checks[f"{role}s"] = check_heartbeats(role, now)
                except DatabaseError:
                    checks[f"{role}s"] = {"ok": False, "error": "database unreachable"}
            else:
                checks[f"{role}s"] = {"ok": False, "error": "database unreachable"}
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "fail", "checks": checks}
