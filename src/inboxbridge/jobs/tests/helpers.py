"""Helpers shared by the background-work tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from inboxbridge.sync.engine import SyncResult

# The scripted results are the engine's own result type, so the fake cannot drift from it.
FakeResult = SyncResult


@dataclass
class FakeEngine:
    """Stands in for the sync engine (jobs.runner.installed_sync): returns scripted results per
    mailbox (default: a complete, no-change sync), records every call, can call `progress` and take
    its time."""

    script: dict[int, list[Any]] = field(default_factory=dict)
    calls: list[tuple[int, float | None]] = field(default_factory=list)
    during: Callable[[int, Callable[..., None] | None], None] | None = None

    def sync_mailbox(self, mailbox_id: int, *, time_budget: float | None = None,
                     progress: Callable[..., None] | None = None) -> FakeResult:
        self.calls.append((mailbox_id, time_budget))
        if self.during is not None:
            self.during(mailbox_id, progress)
        queue = self.script.get(mailbox_id) or []
        outcome = queue.pop(0) if queue else FakeResult()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def synced(self) -> list[int]:
        return [mailbox_id for mailbox_id, _ in self.calls]


def enqueued_mailboxes(results: list[Any]) -> list[int]:
    return sorted(r.args[0] for r in results if r.task.name == "sync_mailbox")


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
