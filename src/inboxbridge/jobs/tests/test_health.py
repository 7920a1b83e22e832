"""/healthz: 200 with a fresh heartbeat, 503 when the database is unreachable or heartbeats are
stale; never a secret."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from inboxbridge.jobs import actions
from inboxbridge.jobs.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db
URL = "/healthz"


def beat(role: str, age_seconds: float = 0.0) -> None:
    actions.record_heartbeat(f"host:1:{role}", role=role, hostname="host", pid=1, backend="database",
                             started_at=timezone.now(), tasks_done=0)
    WorkerHeartbeat.objects.filter(pk=f"host:1:{role}").update(seen_at=timezone.now() - timedelta(seconds=age_seconds))


def test_healthy_with_fresh_heartbeats_and_no_sign_in(client, settings):
    beat("worker", 3)
    beat("scheduler", 1)
    response = client.get(URL)
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["checks"]["database"]["ok"] is True
    assert report["checks"]["tasks"] == {"ok": True, "backend": "database", "queued": 0}
    assert report["checks"]["workers"]["alive"] == 1
    assert 2 <= report["checks"]["workers"]["heartbeat_age_seconds"] < 10
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.content.decode()
    for secret in (settings.SECRET_KEY, settings.ENCRYPTION_KEYS[0], settings.REDIS_URL):
        assert secret not in body


def test_stale_heartbeats_answer_503(client, settings):
    settings.HEARTBEAT_MAX_AGE_SECONDS = 60
    beat("worker", 61)
    beat("scheduler", 1)
    response = client.get(URL)
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "fail"
    assert report["checks"]["workers"]["ok"] is False
    assert report["checks"]["schedulers"]["ok"] is True


def test_no_worker_at_all_answers_503(client):
    assert client.get(URL).status_code == 503


def test_an_unreachable_database_answers_503_without_details(client, monkeypatch):
    beat("worker")
    beat("scheduler")

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal" (10.0.0.5), port 5432 failed')

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get(URL)
    assert response.status_code == 503
    report = json.loads(response.content)
    assert report["checks"]["database"] == {"ok": False, "error": "unreachable"}
    assert report["checks"]["workers"]["ok"] is False
    assert "10.0.0.5" not in response.content.decode()


def test_the_web_scope_only_needs_the_database(client):
    assert client.get(URL + "?scope=web").status_code == 200


def test_redis_backend_health_uses_the_real_redis(client, redis_tasks, settings):
    beat("worker")
    beat("scheduler")
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["checks"]["tasks"] == {"ok": True, "backend": "redis", "queued": 0}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/15"}}
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["checks"]["tasks"] == {"ok": False, "backend": "redis", "error": "unreachable"}
