from __future__ import annotations

from collections.abc import Iterator

import pytest

from inboxbridge.webhooks.tests.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def _private_allowed(settings):
    # The receivers listen on loopback, which production refuses (INBOXBRIDGE_WEBHOOKS_ALLOW_PRIVATE).
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
