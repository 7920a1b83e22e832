"""Running background work: in-process for `inboxbridge serve`, or as `inboxbridge worker`.

- database backend: django-tasks-db's worker loop (SELECT ... FOR UPDATE SKIP LOCKED on
  PostgreSQL, an exclusive transaction on SQLite), in a thread of `serve` or as the main loop of
  `inboxbridge worker`;
- redis backend: an RQ worker using django-tasks-rq's Job class (without it every job fails with
  "'Task' object is not callable"), running jobs in its own process rather than forking a
  work-horse per job: a no-change sync takes about 50 ms, and a fork plus new database
  connections would be added to every one;
- immediate backend: tasks run where they are enqueued, so only the scheduler loop is needed.
Each process also runs the scheduler loop (unless told not to) and a heartbeat thread.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django_tasks_db.management.commands.db_worker import Worker as DbWorkerLoop
from django_tasks_db.models import DBTaskResult

from inboxbridge.jobs import runtime
from inboxbridge.jobs.scheduler import SchedulerLoop

logger = logging.getLogger(__name__)

RESTART_DELAY_SECONDS = 5


class DatabaseWorker(DbWorkerLoop):
    """django-tasks-db's loop, counting tasks for the heartbeat."""

    def __init__(self, heartbeat: runtime.Heartbeat, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heartbeat = heartbeat

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        finally:
            self.heartbeat.task_done()


def _database_worker(heartbeat: runtime.Heartbeat) -> DatabaseWorker:
    return DatabaseWorker(
        heartbeat,
        queue_names=["*"], excluded_queue_names=[], interval=1.0, batch=False, backend_name="default",
        startup_delay=True, max_tasks=None, worker_id=runtime.worker_id()[:64],
    )


def _keep_running(loop: DatabaseWorker, stop: threading.Event) -> None:
    """Run the loop; when the database goes away it raises: wait and start it again."""
    while not stop.is_set() and loop.running:
        try:
            loop.run()
        except Exception:  # an outage must not end the worker; it retries
            logger.exception("Task worker loop failed; restarting in %s s", RESTART_DELAY_SECONDS)
            stop.wait(RESTART_DELAY_SECONDS)
        else:
            return


def _fresh_connections() -> None:
    """Between tasks, like between requests: drop connections that are broken or past
    CONN_MAX_AGE. Never inside an atomic block (tests run a worker inside their transaction)."""
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


def _rq_worker_class(beats: runtime.Heartbeat | None) -> type:
    # Here: RQ is an optional dependency (the `redis` extra), installed only with that backend.
    from rq.worker import SimpleWorker

    class SyncWorker(SimpleWorker):
        # (RQ's own heartbeat() is a method: ours goes by another name.)
        process_heartbeat = beats

        def execute_job(self, job: Any, queue: Any) -> Any:
            _fresh_connections()
            try:
                return super().execute_job(job, queue)
            finally:
                _fresh_connections()
                if self.process_heartbeat is not None:
                    self.process_heartbeat.task_done()

    return SyncWorker


def rq_worker(heartbeat: runtime.Heartbeat | None = None) -> Any:
    """An RQ worker on every configured queue, with the Job class django-tasks-rq needs."""
    # Here: RQ is an optional dependency (the `redis` extra), installed only with that backend.
    import django_rq

    return django_rq.get_worker(
        *settings.RQ_QUEUES, job_class="django_tasks_rq.Job", worker_class=_rq_worker_class(heartbeat)
    )


def run_worker(*, scheduler: bool = True) -> int:
    """`inboxbridge worker`: run tasks of the configured backend (plus the scheduler loop) until
    SIGTERM/SIGINT; the first signal lets the running task finish, a second one stops at once."""
    backend = settings.TASKS_BACKEND
    # immediate: tasks run where they are enqueued, so the scheduler loop does all the work.
    roles = ["scheduler"] if backend == "immediate" else ["worker"] + (["scheduler"] if scheduler else [])
    heartbeat = runtime.Heartbeat(roles)
    stop = threading.Event()
    heartbeat.start()
    scheduler_thread = SchedulerLoop(stop).start_thread() if "scheduler" in roles else None
    print(f"inboxbridge: worker {runtime.worker_id()} on the {backend} backend"
          f"{', with the scheduler' if scheduler_thread else ''}", file=sys.stderr)
    try:
        if backend == "redis":
            rq_worker(heartbeat).work(with_scheduler=True, logging_level="WARNING")
        elif backend == "database":
            loop = _database_worker(heartbeat)
            loop.configure_signals()
            _keep_running(loop, stop)
        else:
            while not stop.wait(3600):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if scheduler_thread is not None:
            scheduler_thread.join(timeout=10)
        heartbeat.stop()
    return 0


class EmbeddedWorker:
    """The background work of `inboxbridge serve`: the scheduler loop and, on the database
    backend, one task worker thread, beside the web server in the same process."""

    def __init__(self) -> None:
        self.backend = settings.TASKS_BACKEND
        roles = ["scheduler"] + (["worker"] if self.backend == "database" else [])
        self.heartbeat = runtime.Heartbeat(roles)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._loop: DatabaseWorker | None = None

    def start(self) -> EmbeddedWorker:
        self.heartbeat.start()
        self._threads.append(SchedulerLoop(self._stop).start_thread())
        if self.backend == "database":
            loop = self._loop = _database_worker(self.heartbeat)
            thread = threading.Thread(target=_keep_running, args=(loop, self._stop), name="inboxbridge-worker",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        elif self.backend == "redis":
            logger.warning("Tasks go to Redis: run `inboxbridge worker` processes to carry them out")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking tasks; wait a little for a running one (a sync slice left behind is taken
        over once its lease expires, so waiting longer is never needed for correctness)."""
        self._stop.set()
        if self._loop is not None:
            self._loop.running = False
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.heartbeat.stop()


def start_embedded_worker() -> EmbeddedWorker:
    return EmbeddedWorker().start()
