"""A fleet on one machine for the multi-process tests and the benchmark: a fresh database
(PostgreSQL or a SQLite file), the real Dovecot and Postfix with N users holding mail in two
folders, and `inboxbridge worker` / `serve` / `run_scheduler` processes started and killed like an
operator would. Runs in a process of its own (see fleet_run.py): Django is set up against the
fresh database, never the test suite's."""

from __future__ import annotations

import email.policy
import imaplib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[4]
DOMAIN = "fleet.test"
# Public, tests-only keys: nothing encrypted with them leaves the run.
TEST_FERNET_KEY = "cJzPRT3mYl0Ek0oD3K0tZ7JkEJgm4lQ0YbbcVPq0o3I="
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


class FleetError(AssertionError):
    pass


def postgres_server_url() -> str:
    """The PostgreSQL server to create throw-away databases on: the suite's own when it runs on
    PostgreSQL, else INBOXBRIDGE_TEST_POSTGRES_URL, else the local default."""
    suite = os.environ.get("DATABASE_URL", "")
    if suite.startswith(("postgres://", "postgresql://")):
        return urlunsplit(urlsplit(suite)._replace(path="/postgres"))
    return os.environ.get("INBOXBRIDGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES)


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(postgres_server_url(), connect_timeout=3):
            return True
    except Exception:  # any failure means the same here: no server to use
        return False


def redis_url() -> str:
    return os.environ.get("INBOXBRIDGE_TEST_REDIS_URL", DEFAULT_REDIS)


def redis_reachable() -> bool:
    try:
        import redis

        client = redis.Redis.from_url(redis_url(), socket_connect_timeout=2)
        client.ping()
        client.close()
        return True
    except Exception:  # any failure means the same here: no server to use
        return False


REDIS_LOCK = "inboxbridge:tests:owner"


@contextmanager
def reserved_redis() -> Iterator[str]:
    """A Redis database of this run's own: test runs of several people (and CI) on one machine
    must not empty each other's queues. INBOXBRIDGE_TEST_REDIS_URL pins one; else databases 15
    down to 8 are tried and the first free one is locked. Only RQ's keys are ever deleted."""
    import redis

    pinned = "INBOXBRIDGE_TEST_REDIS_URL" in os.environ
    candidates = [redis_url()] if pinned else [f"{DEFAULT_REDIS.rsplit('/', 1)[0]}/{n}" for n in range(15, 7, -1)]
    token = secrets.token_hex(8)
    for url in candidates:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        if client.set(REDIS_LOCK, token, nx=True, ex=6 * 3600) or pinned:
            try:
                clear_redis(url)
                yield url
            finally:
                clear_redis(url)
                if client.get(REDIS_LOCK) == token.encode():
                    client.delete(REDIS_LOCK)
                client.close()
            return
        client.close()
    raise FleetError("no free Redis test database (15 down to 8 are all in use)")


def clear_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter("rq:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start:start + 1000])
    client.close()


@dataclass
class FleetDatabase:
    """A database of its own for one fleet run; dropped afterwards."""

    kind: str  # "postgres" | "sqlite"
    data_dir: Path
    url: str = ""
    _name: str = ""

    @classmethod
    def create(cls, kind: str, data_dir: Path) -> FleetDatabase:
        if kind == "sqlite":
            return cls(kind, data_dir)  # settings put it in the data dir, with WAL and IMMEDIATE
        import psycopg

        name = f"inboxbridge_fleet_{secrets.token_hex(4)}"
        server = postgres_server_url()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return cls(kind, data_dir, urlunsplit(urlsplit(server)._replace(path=f"/{name}")), name)

    def drop(self) -> None:
        if self.kind != "postgres":
            return
        import psycopg

        with psycopg.connect(postgres_server_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')


def fleet_environment(database: FleetDatabase, backend: str, ca_file: Path | None, *, redis: str,
                      **settings: int) -> dict[str, str]:
    """The environment every process of the fleet (and this one) runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "INBOXBRIDGE_"))}
    env.pop("DATABASE_URL", None)
    env.update({
        "DJANGO_SETTINGS_MODULE": "inboxbridge.settings",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "INBOXBRIDGE_ENV_FILE": os.devnull,
        "INBOXBRIDGE_DATA_DIR": str(database.data_dir),
        "INBOXBRIDGE_SECRET_KEY": "fleet-tests-only-not-a-secret",
        "INBOXBRIDGE_ENCRYPTION_KEYS": TEST_FERNET_KEY,
        "INBOXBRIDGE_TASKS_BACKEND": backend,
        "INBOXBRIDGE_REDIS_URL": redis,
        "INBOXBRIDGE_LOG_LEVEL": "WARNING",
        "INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS": "true",  # the fleet's mail server is on loopback
    })
    if database.url:
        env["DATABASE_URL"] = database.url
    if ca_file is not None:
        env["INBOXBRIDGE_CA_BUNDLE"] = str(ca_file)
    names = {
        "interval": "INBOXBRIDGE_SYNC_INTERVAL", "tick": "INBOXBRIDGE_SCHEDULER_TICK",
        "lease": "INBOXBRIDGE_SYNC_LEASE", "batch": "INBOXBRIDGE_SYNC_BATCH_SIZE",
        "budget": "INBOXBRIDGE_SYNC_TIME_BUDGET", "heartbeat": "INBOXBRIDGE_HEARTBEAT",
        "heartbeat_max_age": "INBOXBRIDGE_HEARTBEAT_MAX_AGE",
    }
    env.update({names[key]: str(value) for key, value in settings.items()})
    return env


class MailServers:
    """The tests' identity stand-in and mail stack, started in this process."""

    def __init__(self, workdir: Path) -> None:
        import trustme
        from tests.stack.identity import IdentityStandIn
        from tests.stack.mail import MailStack

        ca = trustme.CA()
        self.identity = IdentityStandIn(workdir / "identity", ca)
        self.identity.start()
        self.stack = MailStack(workdir / "mail", ca, self.identity, domain=DOMAIN)
        self.stack.start()
        self.passwords: dict[str, str] = {}

    @property
    def ca_file(self) -> Path:
        return Path(self.identity.ca_file)

    def add_users(self, addresses: Iterable[str]) -> None:
        for address in addresses:
            self.passwords[address] = self.stack.add_user(address)

    def append(self, address: str, folders: list[tuple[str, list[bytes]]]) -> None:
        """APPEND over the plain port (set-up speed; the workers use TLS). One connection per user:
        Dovecot creates a new user's Maildir at the first login, and two at once collide."""
        client = imaplib.IMAP4(self.stack.host, self.stack.imap_port)
        try:
            client.login(address, self.passwords[address])
            for folder, messages in folders:
                for raw in messages:
                    status, detail = client.append(folder, None, None, raw)
                    if status != "OK":
                        raise FleetError(f"APPEND to {folder} failed: {detail!r}")
        finally:
            client.logout()

    def append_many(self, work: list[tuple[str, str, list[bytes]]]) -> None:
        """(address, folder, messages) items, several users at a time."""
        by_user: dict[str, list[tuple[str, list[bytes]]]] = {}
        for address, folder, messages in work:
            by_user.setdefault(address, []).append((folder, messages))
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda item: self.append(*item), by_user.items()))

    def stop(self) -> None:
        self.stack.stop()
        self.identity.stop()


def message(address: str, key: str, body_bytes: int = 1500) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@elsewhere.test>"
    msg["To"] = address
    msg["Subject"] = f"Fleet message {key}"
    msg["Date"] = format_datetime(time_now_utc())
    msg["Message-ID"] = f"<{key}.{address}>"
    line = f"Message {key} for {address}. "
    msg.set_content((line * (body_bytes // len(line) + 1))[:body_bytes])
    return msg.as_bytes(policy=email.policy.SMTP)


def time_now_utc() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL to the whole process group: the worker and anything it started."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        return int(self.popen.returncode)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Fleet:
    env: dict[str, str]
    logs: Path
    processes: list[Process] = field(default_factory=list)

    def start(self, name: str, *args: str) -> Process:
        log = self.logs / f"{name}.log"
        out = log.open("wb")
        popen = subprocess.Popen(
            [sys.executable, "-m", "inboxbridge.cli", *args], env=self.env, cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        out.close()
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()


def wait_until(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.1,
               fleet: Fleet | None = None) -> float:
    """Poll until true; returns the time it took. Fails with the processes' last log lines."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            logs = "" if fleet is None else "\n".join(f"--- {p.name}:\n{p.tail()}" for p in fleet.processes)
            raise FleetError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(step)
    return time.monotonic() - started


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="inboxbridge-fleet-"))
