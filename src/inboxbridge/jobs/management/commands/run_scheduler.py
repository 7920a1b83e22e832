"""`inboxbridge manage run_scheduler`: only the scheduler loop, for deployments that run their
workers with `inboxbridge worker --no-scheduler` and want the scheduling in one place."""

from __future__ import annotations

import json
import signal
import threading
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

from inboxbridge.jobs import runtime
from inboxbridge.jobs.scheduler import SchedulerLoop, tick


class Command(BaseCommand):
    help = "Run the scheduler loop: enqueue a sync for every due mailbox, once per interval."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, print what it did as JSON, exit")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        if once:
            result = tick()
            self.stdout.write(json.dumps({"enqueued": result.enqueued, "housekeeping": result.housekeeping,
                                          "seconds": round(result.seconds, 4)}))
            return
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        heartbeat = runtime.Heartbeat(["scheduler"])
        heartbeat.start()
        try:
            SchedulerLoop(stop).run()
        finally:
            heartbeat.stop()
