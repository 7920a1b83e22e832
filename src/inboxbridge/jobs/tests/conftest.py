"""Fixtures of the background-work tests: a scriptable stand-in for the sync engine, a task
backend that only records what was enqueued, mailboxes, and the real Redis on a DB of its own."""

from __future__ import annotations

import os
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inboxbridge.jobs.tests.helpers import FakeEngine
from inboxbridge.mailboxes.models import Mailbox


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    import inboxbridge.sync

    engine = FakeEngine()
    module = types.ModuleType("inboxbridge.sync.engine")
    module.sync_mailbox = engine.sync_mailbox  # type: ignore[attr-defined]
    module.push_flags = engine.push_flags  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "inboxbridge.sync.engine", module)
    monkeypatch.setattr(inboxbridge.sync, "engine", module, raising=False)
    return engine


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


@pytest.fixture
def make_mailbox(django_user_model: Any) -> Callable[..., Mailbox]:
    def make(owner: Any = "new", **fields: Any) -> Mailbox:
        if owner == "new":
            name = f"u{uuid.uuid4().hex[:10]}"
            owner = django_user_model.objects.create_user(name, f"{name}@example.test", "pw-" + name)
        defaults: dict[str, Any] = {
            "email_address": f"{uuid.uuid4().hex[:8]}@example.test",
            "account_type": Mailbox.AccountType.OTHER,
            "imap_host": "127.0.0.1", "imap_port": 993, "username": "x", "password": "secret-password",
            "next_sync_at": timezone.now() - timedelta(seconds=1),
        }
        defaults.update(fields)
        return Mailbox.objects.create(owner=owner, **defaults)

    return make


@pytest.fixture
def staff_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("jobs-admin", "jobs-admin@example.test", "pw-admin-1",
                                                 is_staff=True)


@pytest.fixture
def member_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("jobs-member", "jobs-member@example.test", "pw-member-1")


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
