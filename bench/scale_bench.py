#!/usr/bin/env python3
"""Background-work benchmark: the 200-mailbox fleet synced by 1, 2 and 4 `inboxbridge worker`
processes, the cost of a no-change round and of a scheduler tick.

Usage:
  scale_bench.py [--setups postgres/redis,postgres/database,sqlite/database] [--workers 1,2,4]
                 [--mailboxes 200] [--per-folder 10] [--repeat 1]

Each run is `python -m inboxbridge.jobs.tests.fleet_run scale --bench` (the scale test's own
harness) with a fresh database, the real Dovecot over TLS, and PostgreSQL/Redis on 127.0.0.1.
Prints one JSON line per run, then a Markdown table for docs/benchmarks.md. These machines are
noisy: compare the figures of one run of this script, and prefer --repeat 3 (the median counts).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def run(setup: str, workers: int, args: argparse.Namespace) -> dict:
    database, backend = setup.split("/")
    completed = subprocess.run(
        [sys.executable, "-m", "inboxbridge.jobs.tests.fleet_run", "scale", "--bench", "--database", database,
         "--backend", backend, "--workers", str(workers), "--mailboxes", str(args.mailboxes),
         "--per-folder", str(args.per_folder), "--interval", str(args.interval)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if not lines:
        sys.exit(f"{setup} x{workers}: no report\n{completed.stderr[-3000:]}")
    report = json.loads(lines[-1])
    print(json.dumps(report), flush=True)
    if not report["ok"]:
        sys.exit(f"{setup} x{workers} failed: {report['failures']}")
    return report


def median(reports: list[dict], *path: str) -> float:
    values = []
    for report in reports:
        value = report
        for key in path:
            value = value[key]
        values.append(value)
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default="postgres/redis,postgres/database,sqlite/database")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--mailboxes", type=int, default=200)
    parser.add_argument("--per-folder", type=int, default=10)
    parser.add_argument("--interval", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    rows = []
    for setup in args.setups.split(","):
        for workers in (int(n) for n in args.workers.split(",")):
            reports = [run(setup, workers, args) for _ in range(args.repeat)]
            rows.append((setup, workers, {
                "msgs": median(reports, "initial", "messages"),
                "rate": median(reports, "initial", "messages_per_second"),
                "wall": median(reports, "initial", "wall_seconds"),
                "nc_busy": median(reports, "no_change", "worker_seconds"),
                "nc_ms": median(reports, "no_change", "per_mailbox_ms"),
                "nc_cpu": median(reports, "no_change", "worker_cpu_seconds"),
                "tick_all": median(reports, "ticks", "claim_and_enqueue_all_seconds"),
                "tick_idle": median(reports, "ticks", "idle_tick_ms"),
            }))
    print()
    print(f"{args.mailboxes} mailboxes x 2 folders, {args.per_folder} messages per folder "
          f"(one shared between the folders); median of {args.repeat} run(s)")
    print()
    print("| database / queue | workers | initial sync msgs/s | initial wall s | no-change round: busy s "
          "(ms per mailbox) | no-change round: worker CPU s | tick claiming all, s | idle tick, ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for setup, workers, m in rows:
        print(f"| {setup} | {workers} | {m['rate']:.0f} | {m['wall']:.1f} | {m['nc_busy']:.1f} ({m['nc_ms']:.0f}) "
              f"| {m['nc_cpu']:.1f} | {m['tick_all']:.3f} | {m['tick_idle']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
