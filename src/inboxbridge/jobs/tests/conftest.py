"""Fixtures of the background-work tests: a scriptable stand-in for the sync engine, a task
backend that only records what was enqueued, and the real Redis on a DB of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from inboxbridge.jobs.runner import installed_sync
from inboxbridge.jobs.tests.helpers import FakeEngine


@pytest.fixture
def fake_engine() -> Iterator[FakeEngine]:
    """Every sync run in this process (worker threads included) runs the fake instead of the engine."""
    engine = FakeEngine()
    with installed_sync(engine.sync_mailbox):
        yield engine


@pytest.fixture
def recorded_tasks(settings: Any) -> Iterator[list[Any]]:
    """Enqueued task results, without running them (django_tasks' dummy backend)."""
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    results: list[Any] = default_task_backend.results  # type: ignore[attr-defined]
    yield results


@pytest.fixture
def inline_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(scope="session")
def test_redis_url() -> Iterator[str]:
    """A Redis database reserved for this test run (see fleet.reserved_redis)."""
    from inboxbridge.jobs.tests import fleet

    if not fleet.redis_reachable():
        message = "needs Redis on 127.0.0.1:6379"
        if os.environ.get("INBOXBRIDGE_TESTS_ALLOW_SKIP") == "1":
            pytest.skip(message)
        pytest.fail(f"{message}, or set INBOXBRIDGE_TESTS_ALLOW_SKIP=1 to skip", pytrace=False)
    with fleet.reserved_redis() as url:
        yield url


@pytest.fixture
def redis_tasks(settings: Any, test_redis_url: str) -> Iterator[str]:
    """The Redis task backend on the real Redis, its queues emptied before and after."""
    from inboxbridge.jobs.tests.fleet import clear_redis

    clear_redis(test_redis_url)
    settings.TASKS_BACKEND = "redis"
    settings.RQ_QUEUES = {"default": {"URL": test_redis_url, "DEFAULT_TIMEOUT": 120}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    yield test_redis_url
    clear_redis(test_redis_url)
