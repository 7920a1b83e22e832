"""Webhook benchmark: from a message stored to its webhook delivered, for a burst of new messages.

A real first sync of the yardstick's corpus (INBOX n*3/4 + Archive n/4, default 5,000 messages)
from a standalone Dovecot on loopback (bench/sync_bench.py's BenchDovecot), into a fresh database
with one webhook endpoint subscribed to message.new. Nothing is called by hand: the background
machinery of the chosen mode does all of it, as in production. Its scheduler claims the due
mailbox, a worker runs the sync task (which records one event per new message in each batch's
transaction), and the webhook task fans the events out into deliveries and sends them.

A local receiver (a threaded HTTP server on 127.0.0.1, in the measuring process) verifies every
delivery's Standard Webhooks signature with the `standardwebhooks` library and notes when each
webhook-id arrived. Per event: arrival - event.created_at (the time the sync recorded it, inside
the transaction that stored its message). Reported: median, 95th percentile and maximum of that
delay, the time from the first message stored to the last delivery, deliveries per second, and
the checks: every event delivered exactly once (by webhook-id), no bad signature, and the
arrivals in event order (one mailbox: one ordered lane).

Modes (--modes, comma-separated):
  embedded    the background work of `inboxbridge serve` (jobs.worker.start_embedded_worker:
              the scheduler and one worker thread) in a process of its own;
  workers:N   N `inboxbridge worker` processes (each with its scheduler loop).
Both on the database task backend (the default).

    # as root (Dovecot switches to the mail user); YARDSTICK = the folder with gen_corpus.py
    .venv/bin/python bench/webhook_bench.py --yardstick "$YARDSTICK"
    .venv/bin/python bench/webhook_bench.py --yardstick "$YARDSTICK" \\
        --database-url postgres://postgres@127.0.0.1:5432/test --modes embedded,workers:2 --runs 3

With PostgreSQL the server of the URL gets a database of its own (`<name>_webhook_bench`), made
afresh for each run and dropped after it. INBOXBRIDGE_WEBHOOKS_ALLOW_PRIVATE is set for the runs:
the receiver is on loopback, which the SSRF guard refuses otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchkit import clean_up, percentile_95, prepare_environment
from sync_bench import BenchDovecot, create_mailbox

SUFFIX = "webhook_bench"
TARGET_SECONDS = 60.0
WAIT_AT_MOST_SECONDS = 900.0
SETTLE_SECONDS = 3.0  # after the last expected arrival: time for a repeat to show up


# -- the receiver -------------------------------------------------------------------------------


class Receiver:
    """Verifies each delivery and notes its arrival (wall clock, as event.created_at is)."""

    def __init__(self) -> None:
        self.secret = ""
        self.arrivals: list[tuple[str, float]] = []  # (webhook-id, arrival), in arrival order
        self.bad_signatures = 0
        self.connections = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/inboxbridge"

    def unique(self) -> int:
        with self.lock:
            return len({msg_id for msg_id, _ in self.arrivals})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, for a sender that keeps its connection

            def setup(self) -> None:
                super().setup()
                with receiver.lock:
                    receiver.connections += 1

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    Webhook(receiver.secret).verify(body, dict(self.headers.items()), json_parse=False)
                except WebhookVerificationError:
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(400)
                    return
                arrived = time.time()
                with receiver.lock:
                    receiver.arrivals.append((self.headers["webhook-id"], arrived))
                self._answer(204)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# -- one run (a process of its own: a fresh instance) -------------------------------------------


def worker_commands(mode: str) -> list[list[str]]:
    if mode == "embedded":
        return [[sys.executable, __file__, "_embedded"]]
    kind, _, count = mode.partition(":")
    if kind != "workers" or not count.isdigit() or int(count) < 1:
        raise SystemExit(f"unknown mode {mode!r}: embedded or workers:N")
    command = str(Path(sys.executable).with_name("inboxbridge"))
    return [[command, "worker"] for _ in range(int(count))]


def run_once(mode: str, imaps_port: int, cafile: str, database_url: str, expected: int) -> dict[str, Any]:
    backend, scratch = prepare_environment(database_url, SUFFIX, tasks_backend="database")
    os.environ.update({
        "INBOXBRIDGE_WEBHOOKS_ALLOW_PRIVATE": "true",  # the receiver is on loopback
        "INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS": "true",  # so is Dovecot
        "INBOXBRIDGE_CA_BUNDLE": cafile,
        "INBOXBRIDGE_LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections
    from django.db.models import Count, Sum

    from inboxbridge.events.models import Event, EventType
    from inboxbridge.mail.models import Email
    from inboxbridge.mailboxes.models import Mailbox
    from inboxbridge.webhooks.actions import create_endpoint
    from inboxbridge.webhooks.models import Delivery

    call_command("migrate", verbosity=0)
    receiver = Receiver()
    receiver.thread.start()
    admin = get_user_model().objects.create_superuser("bench-admin", "admin@example.test", "bench-admin-password-1")
    receiver.secret = create_endpoint(admin, owner=None, url=receiver.url, events=[EventType.MESSAGE_NEW],
                                      mailbox=None, description="bench").secret
    mailbox = create_mailbox(imaps_port)  # due at once: the first scheduler tick claims it
    connections.close_all()

    def all_arrived() -> bool:
        """The sync has stored everything and every message.new event it recorded has arrived."""
        synced = Mailbox.objects.filter(pk=mailbox.pk, state=Mailbox.State.IDLE, backlog=0,
                                        message_count__gte=expected).exists()
        return synced and receiver.unique() >= Event.objects.filter(type=EventType.MESSAGE_NEW).count()

    started = time.time()
    # The workers' output goes to stderr: stdout carries this run's report.
    workers = [subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=sys.stderr) for argv in worker_commands(mode)]
    try:
        deadline = time.monotonic() + WAIT_AT_MOST_SECONDS
        while not all_arrived():
            if any(w.poll() is not None for w in workers):
                raise SystemExit(f"a worker of {mode} ended early")
            if time.monotonic() > deadline:
                print(f"  {mode}: gave up waiting after {WAIT_AT_MOST_SECONDS:.0f} s", file=sys.stderr)
                break
            time.sleep(0.5)
        time.sleep(SETTLE_SECONDS)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        receiver.server.shutdown()

    created = {f"evt_{pk}": at.timestamp()
               for pk, at in Event.objects.filter(type=EventType.MESSAGE_NEW).values_list("pk", "created_at")}
    statuses = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")))
    attempts = Delivery.objects.aggregate(n=Sum("attempts"))["n"] or 0
    recorded = [at.timestamp() for at in Delivery.objects.filter(delivered_at__isnull=False)
                .values_list("delivered_at", flat=True)]
    report = measure(receiver, created, started)
    report.update(mode=mode, database=backend, emails=Email.objects.count(), deliveries=statuses,
                  attempts=attempts, last_recorded_delivery_s=round(max(recorded) - started, 2) if recorded else None)
    clean_up(keep=False, backend=backend, database_url=database_url, suffix=SUFFIX, scratch=scratch)
    return report


def measure(receiver: Receiver, created: dict[str, float], started: float) -> dict[str, Any]:
    first_arrival: dict[str, float] = {}
    repeats = 0
    for msg_id, arrived in receiver.arrivals:
        if msg_id in first_arrival:
            repeats += 1
        else:
            first_arrival[msg_id] = arrived
    delays = sorted(first_arrival[msg_id] - at for msg_id, at in created.items() if msg_id in first_arrival)
    order = [int(msg_id.removeprefix("evt_")) for msg_id, _ in receiver.arrivals]
    out_of_order = sum(1 for before, after in itertools.pairwise(order) if after < before)
    arrivals = sorted(first_arrival.values())
    stored = sorted(created.values())
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    return {
        "events": len(created), "delivered": len(delays), "missing": len(created) - len(delays),
        "unexpected": len(set(first_arrival) - set(created)), "repeats": repeats,
        "bad_signatures": receiver.bad_signatures, "out_of_order": out_of_order, "connections": receiver.connections,
        "delay_median_s": round(statistics.median(delays), 2) if delays else None,
        "delay_p95_s": round(percentile_95(delays), 2) if delays else None,
        "delay_max_s": round(delays[-1], 2) if delays else None,
        "first_stored_s": round(stored[0] - started, 2) if stored else None,
        "last_stored_s": round(stored[-1] - started, 2) if stored else None,
        "first_delivered_s": round(arrivals[0] - started, 2) if arrivals else None,
        "last_delivered_s": round(arrivals[-1] - started, 2) if arrivals else None,
        "stored_to_all_delivered_s": round(arrivals[-1] - stored[0], 2) if arrivals and stored else None,
        "deliveries_per_s": round((len(arrivals) - 1) / span, 1) if span else None,
        "within_target": bool(delays) and len(delays) == len(created) and delays[-1] <= TARGET_SECONDS,
        "at": datetime.fromtimestamp(started).isoformat(timespec="seconds"),
    }


def embedded_role() -> None:
    """The background work of `inboxbridge serve`, without the web server, until SIGTERM."""
    import django

    django.setup()
    from inboxbridge.jobs.worker import start_embedded_worker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker = start_embedded_worker()
    stop.wait()
    worker.stop()


# -- the whole bench ----------------------------------------------------------------------------


def table(reports: list[dict[str, Any]]) -> str:
    lines = ["| database | mode | events | delay median / p95 / max (s) | first stored → last delivered (s) "
             "| sync: first → last stored (s) | deliveries/s | HTTP connections | exactly once, in order |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in reports:
        checks = "yes" if not (r["missing"] or r["repeats"] or r["unexpected"] or r["bad_signatures"]
                               or r["out_of_order"]) else (
            f"missing {r['missing']}, repeats {r['repeats']}, unexpected {r['unexpected']}, "
            f"bad signatures {r['bad_signatures']}, out of order {r['out_of_order']}")
        lines.append(f"| {r['database']} | {r['mode']} | {r['events']:,} "
                     f"| {r['delay_median_s']} / {r['delay_p95_s']} / {r['delay_max_s']} "
                     f"| {r['stored_to_all_delivered_s']} | {r['first_stored_s']} → {r['last_stored_s']} "
                     f"| {r['deliveries_per_s']} | {r['connections']:,} | {checks} |")
    return "\n".join(lines)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_embedded":
        embedded_role()
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_run":
        _, _, mode, port, cafile, database_url, expected = sys.argv
        print(json.dumps(run_once(mode, int(port), cafile, database_url, int(expected))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--yardstick", type=Path, required=True, help="folder with gen_corpus.py")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--modes", default="embedded,workers:1,workers:2")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "inboxbridge-sync-bench",
                        help="the corpus is kept here between runs (shared with sync_bench.py)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir / f"c{args.messages}"
    workdir.mkdir(parents=True, exist_ok=True)
    for path in (args.workdir, workdir):
        path.chmod(0o755)  # Dovecot's mail user must reach the Maildir
    server = BenchDovecot(workdir)
    server.generate(args.yardstick, args.messages, args.messages // 4)
    server.start()
    reports = []
    try:
        for _ in range(args.runs):
            for mode in args.modes.split(","):
                env = {k: v for k, v in os.environ.items() if k not in ("INBOXBRIDGE_DATA_DIR", "DATABASE_URL")}
                done = subprocess.run([sys.executable, __file__, "_run", mode, str(server.imaps_port),
                                       str(server.cafile), args.database_url, str(args.messages)],
                                      env=env, stdout=subprocess.PIPE, text=True, check=True)
                reports.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(json.dumps(reports[-1]), file=sys.stderr, flush=True)
    finally:
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(reports, indent=1))
    print(f"webhook bench, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    print(table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
