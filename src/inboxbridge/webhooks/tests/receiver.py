"""A webhook receiver for the tests: a small threaded HTTP server on loopback that keeps every
request and answers as the test says (200, 500, a redirect; or a script of answers for the next
requests), counts the connections it accepted (it keeps them alive, as most servers do), and can be
down (nothing listening)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

from django.utils import timezone
from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    path: str = ""

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def document(self) -> Any:
        return json.loads(self.body)

    def verify(self, secret: str) -> Any:
        """The spec's own library checks the signature (and the timestamp's freshness)."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status = 200
        self.script: list[int] = []  # the answers to the next requests, then `status`
        self.connections = 0
        self.location = ""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/inboxbridge"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.requests if 200 <= r.answered < 300]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                receiver.connections += 1

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status = receiver.script.pop(0) if receiver.script else receiver.status
                receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body, status,
                                                  self.path))
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                answer = b"ok" if status < 300 else b"receiver says no"
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def clock_moved(by: timedelta) -> Iterator[None]:
    """timezone.now() as if `by` had passed (the retries' waits without waiting)."""
    real = timezone.now
    with mock.patch("django.utils.timezone.now", lambda: real() + by):
        yield
