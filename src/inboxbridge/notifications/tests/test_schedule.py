"""The scheduler enqueues the notifications job once per NOTIFICATIONS_INTERVAL_SECONDS, however
many schedulers tick."""

from __future__ import annotations

import pytest
from django_tasks import default_task_backend

from inboxbridge.jobs.scheduler import tick

pytestmark = pytest.mark.django_db


def test_the_scan_is_enqueued_once_per_interval(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.NOTIFICATIONS_INTERVAL_SECONDS = 3600
    tick()
    tick()  # a second scheduler, or the next tick: not due again
    scans = [result for result in default_task_backend.results  # type: ignore[attr-defined]
             if result.task.name == "scan_for_notifications"]
    assert len(scans) == 1
