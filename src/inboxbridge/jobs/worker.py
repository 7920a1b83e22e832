"""Running background work: in-process for `inboxbridge serve`, or as `inboxbridge worker`."""

from __future__ import annotations

import threading


class EmbeddedWorker:
    def __init__(self) -> None:
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()


def start_embedded_worker() -> EmbeddedWorker:
    return EmbeddedWorker()


def run_worker(*, scheduler: bool = True) -> int:
    return 0
