"""Multi-process tests on real servers: `inboxbridge worker` processes against PostgreSQL and
Redis (or SQLite and the database queue), the real Dovecot and Postfix, each run in a process of
its own with a throw-away database (see fleet_run.py). They run in CI: a missing PostgreSQL or
Redis fails them, unless INBOXBRIDGE_TESTS_ALLOW_SKIP=1 turns that into a skip."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from inboxbridge.jobs.tests import fleet

pytestmark = pytest.mark.mailserver


def need(database: str, backend: str) -> None:
    missing = [name for name, wanted, there in (
        ("PostgreSQL", database == "postgres", fleet.postgres_reachable),
        ("Redis", backend == "redis", fleet.redis_reachable),
    ) if wanted and not there()]
    if missing:
        message = f"needs {' and '.join(missing)} on 127.0.0.1 (see docs/operations.md)"
        if os.environ.get("INBOXBRIDGE_TESTS_ALLOW_SKIP") == "1":
            pytest.skip(message)
        pytest.fail(f"{message}, or set INBOXBRIDGE_TESTS_ALLOW_SKIP=1 to skip", pytrace=False)


def run_fleet(request: pytest.FixtureRequest, *args: str, timeout: float = 480) -> dict:
    env = dict(os.environ)
    if "redis" in args:
        env["INBOXBRIDGE_TEST_REDIS_URL"] = request.getfixturevalue("test_redis_url")
    completed = subprocess.run(
        [sys.executable, "-m", "inboxbridge.jobs.tests.fleet_run", *args],
        cwd=fleet.REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, f"no report (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
    report = json.loads(lines[-1])
    assert report["ok"], "\n".join(report.get("failures", [])) + "\n" + completed.stderr[-3000:]
    return report


@pytest.mark.parametrize("database,backend,mailboxes,workers", [
    ("postgres", "redis", 200, 4),
    ("postgres", "database", 100, 4),
    ("sqlite", "database", 40, 2),
])
def test_many_mailboxes_synced_by_several_workers_exactly_once_and_kept_current(request, database, backend, mailboxes,
                                                                                workers):
    """Every message stored exactly once, no mailbox synced by two workers at once (every sync's
    start and end is recorded with its worker), every worker used, and afterwards the schedulers
    alone sync each mailbox again within the interval: nothing new for most, new mail for some."""
    need(database, backend)
    report = run_fleet(request, "scale", "--database", database, "--backend", backend, "--mailboxes", str(mailboxes),
                       "--workers", str(workers), "--per-folder", "10", "--interval", "15")
    assert report["initial"]["messages"] == mailboxes * 19
    assert report["initial"]["workers_used"] == workers


@pytest.mark.parametrize("database,backend", [("sqlite", "database"), ("postgres", "redis")])
def test_a_worker_killed_mid_sync_is_taken_over_without_loss_or_duplicates(request, database, backend):
    need(database, backend)
    report = run_fleet(request, "kill", "--database", database, "--backend", backend, "--mailboxes", "4")
    assert 0 < report["killed_with_stored"] < 900


@pytest.mark.parametrize("database,backend", [("postgres", "database"), ("postgres", "redis"),
                                              ("sqlite", "database")])
def test_two_schedulers_together_enqueue_nothing_twice(request, database, backend):
    need(database, backend)
    report = run_fleet(request, "schedulers", "--database", database, "--backend", backend, "--mailboxes", "300")
    assert report["enqueued"] == 300
    assert sum(report["claim_race"]) == 300 and sum(1 for n in report["claim_race"] if n) > 1


def test_serve_alone_keeps_mailboxes_synchronized(request):
    report = run_fleet(request, "serve", "--database", "sqlite", "--backend", "database", "--mailboxes", "3",
                       "--interval", "5")
    assert report["healthz"] == 200
    assert report["new_mail_seconds"] < 5 + 10
