"""Fleet scenarios, run as `python -m inboxbridge.jobs.tests.fleet_run SCENARIO [options]`; prints
one JSON report and exits 1 when a check failed. test_fleet.py and bench/scale_bench.py run it.

- scale: N mailboxes x 2 folders synced by W `inboxbridge worker` processes; then the schedulers
  alone keep them current (an automatic round: new mail for a few, nothing new for the rest).
- kill: a worker SIGKILLed in the middle of a big sync; another one finishes it.
- schedulers: two scheduler processes racing over the same due mailboxes.
- serve: `inboxbridge serve` alone (embedded worker, SQLite) keeps mailboxes current.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
from contextlib import ExitStack
from typing import Any

from inboxbridge.jobs.tests import fleet as f
from inboxbridge.jobs.tests.fleet_checks import setup_django
from inboxbridge.jobs.tests.fleet_scenarios import SCENARIO_SETTINGS, SCENARIOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--backend", choices=["database", "redis"], default="redis")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mailboxes", type=int, default=200)
    parser.add_argument("--per-folder", type=int, default=10)
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument("--tick", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--bench", action="store_true", help="also measure scheduler ticks")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) and the database")
    args = parser.parse_args(argv)

    workdir = f.new_workdir()
    report: dict[str, Any] = {"scenario": args.scenario, "database": args.database, "backend": args.backend,
                              "mailboxes": args.mailboxes}
    if args.scenario == "scale":
        report["workers"] = args.workers
    with ExitStack() as cleanup:
        cleanup.callback(lambda: None if args.keep else shutil.rmtree(workdir, ignore_errors=True))
        servers = None if args.scenario == "schedulers" else f.MailServers(workdir / "servers")
        if servers is not None:
            cleanup.callback(servers.stop)
        redis = cleanup.enter_context(f.reserved_redis()) if args.backend == "redis" else f.redis_url()
        database = f.FleetDatabase.create(args.database, workdir / "data")
        if not args.keep:
            cleanup.callback(database.drop)
        env = f.fleet_environment(
            database, args.backend, servers.ca_file if servers else None, redis=redis, interval=args.interval,
            tick=args.tick, heartbeat=1, **SCENARIO_SETTINGS.get(args.scenario, {}))
        setup_django(env)
        cleanup.callback(_close_connections)
        logs = workdir / "logs"
        logs.mkdir()
        fleet = f.Fleet(env, logs)
        cleanup.callback(fleet.stop_all)
        try:
            report.update(SCENARIOS[args.scenario](args, servers, fleet))
        except f.FleetError as error:
            report.setdefault("failures", []).append(str(error))
    report["ok"] = not report.get("failures")
    print(json.dumps(report, default=str))
    return 0 if report["ok"] else 1


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()  # before the database is dropped


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
