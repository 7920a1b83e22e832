"""Small helpers shared by the stack: binaries, free ports, listening checks, loopback servers."""

from __future__ import annotations

import os
import shutil
import socket
import socketserver
import threading
import time
from pathlib import Path

# Daemons live in sbin, which is often not on a non-login PATH.
SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def find_binary(name: str) -> str:
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(SBIN_DIRS)
    found = shutil.which(name, path=path)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (run scripts/install-test-stack)")
    return found


def have_binary(name: str) -> bool:
    try:
        find_binary(name)
    except FileNotFoundError:
        return False
    return True


def free_ports(count: int) -> list[int]:
    """Ports that were free a moment ago; all are held at once so they are distinct."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _listening_ports() -> set[int] | None:
    """Local TCP ports in LISTEN state, read without connecting (no log noise)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return None
    ports = set()
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == "0A":  # 0A = TCP_LISTEN
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_listening(ports: list[int], timeout: float) -> bool:
    """True if every port accepts connections (checked once when timeout is 0)."""
    deadline = time.monotonic() + timeout
    while True:
        listening = _listening_ports()
        if listening is not None:
            ok = all(p in listening for p in ports)
        else:
            ok = all(_connects(p) for p in ports)
        if ok or time.monotonic() >= deadline:
            return ok
        time.sleep(0.02)


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class ServedInBackground(socketserver.BaseServer):
    """Mixin (before the server class) for the stack's own servers: serve from a daemon thread."""

    thread_name = "test-stack-server"
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])  # type: ignore[index]

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name=self.thread_name
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
