"""Per-process state of the background machinery: who this worker is, and the heartbeat thread
that tells /healthz (and the admin page) that its loops are alive."""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from inboxbridge.jobs import actions

logger = logging.getLogger(__name__)

def hostname() -> str:
    # Short enough that "<host>:<pid>" fits the task backends' 64-character worker ids.
    return socket.gethostname()[:48]


def worker_id() -> str:
    """The name sync runs and leases are recorded under: host and process. Each process runs at
    most one task at a time (one worker thread), so it names the worker."""
    return f"{hostname()}:{os.getpid()}"


class Heartbeat:
    """Writes one WorkerHeartbeat row per loop of this process every HEARTBEAT_SECONDS, from a
    thread of its own: a worker busy with a long sync slice still shows as alive, and a killed
    process stops beating at once."""

    def __init__(self, roles: list[str]) -> None:
        self.started_at = timezone.now()
        self.pid = os.getpid()
        self.loop_ids = {role: f"{hostname()}:{self.pid}:{role}" for role in roles}
        self.tasks_done = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def task_done(self) -> None:
        self.tasks_done += 1  # one writer per process (the worker loop); the GIL makes += safe enough

    def beat(self) -> None:
        for role, loop_id in self.loop_ids.items():
            actions.record_heartbeat(
                loop_id, role=role, hostname=hostname(), pid=self.pid, backend=settings.TASKS_BACKEND,
                started_at=self.started_at, tasks_done=self.tasks_done if role == "worker" else 0,
            )

    def start(self) -> None:
        self.beat()  # at once: a fresh worker is visible before its first task
        self._thread = threading.Thread(target=self._run, name="inboxbridge-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            for loop_id in self.loop_ids.values():
                actions.forget_heartbeat(loop_id)
        except Exception:  # a database gone at shutdown must not hide the real exit
            logger.warning("Could not remove the heartbeat rows of this process", exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(settings.HEARTBEAT_SECONDS):
            try:
                close_old_connections()
                self.beat()
            except Exception:  # a database blip must not end the heartbeat
                logger.warning("Heartbeat not recorded", exc_info=True)
