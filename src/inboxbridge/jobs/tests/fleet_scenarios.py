"""The fleet scenarios (see fleet_run.py)."""

from __future__ import annotations

import argparse
import os
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from inboxbridge.jobs.tests import fleet as f
from inboxbridge.jobs.tests.fleet_checks import (
    check_exactly_once,
    create_mailboxes,
    failed_tasks,
    fresh_workers,
    make_due,
    overlaps,
    populate,
    round_after,
    runs_of,
    seconds,
    stored,
)


def scenario_scale(args: argparse.Namespace, servers: f.MailServers, fleet: f.Fleet) -> dict[str, Any]:
    addresses = [f"user{n:04d}@{f.DOMAIN}" for n in range(args.mailboxes)]
    servers.add_users(addresses)
    t = time.monotonic()
    distinct = populate(servers, addresses, args.per_folder)
    ids = create_mailboxes(servers, addresses, imap_port=servers.stack.imaps_port)
    report: dict[str, Any] = {"setup_seconds": round(time.monotonic() - t, 1), "failures": []}
    for n in range(args.workers):
        fleet.start(f"worker{n}", "worker")
    f.wait_until(lambda: fresh_workers(args.workers) >= args.workers, 60, "the workers to start", fleet=fleet)

    # Round 1: everything new. Throughput = messages stored / wall time until the last is stored.
    t0 = make_due()
    expected = {i: (distinct, 2 * args.per_folder) for i in ids}
    wall = f.wait_until(lambda: stored(ids) == expected and len(round_after(ids, t0)) == len(ids),
                        args.timeout, "the initial sync", step=0.05, fleet=fleet)
    first = round_after(ids, t0)
    total = distinct * len(ids)
    report["initial"] = {"messages": total, "wall_seconds": round(wall, 2), "messages_per_second": round(total / wall),
                         "worker_seconds": round(seconds(list(first.values())), 2),
                         "workers_used": len({r.worker_id for r in first.values()})}

    # Then nobody presses anything: each mailbox is due one interval after its last sync. Some get
    # new mail now (not in a benchmark, which wants pure no-change syncs).
    t_done = _now()
    lucky = set() if args.bench else set(addresses[: max(1, len(addresses) // 20)])
    servers.append_many([(a, "INBOX", [f.message(a, "new")]) for a in sorted(lucky)])
    t_mail = _now()
    fresh = {i for i, a in zip(ids, addresses, strict=True) if a in lucky}
    cpu_before = _cpu_seconds(fleet)
    try:
        f.wait_until(lambda: not _steady_missing(ids, fresh, t_done), args.interval + 60, "the automatic round",
                     fleet=fleet)
    except f.FleetError as error:
        raise f.FleetError(f"{error}\n{_steady_missing(ids, fresh, t_done)}") from None
    report["no_change"] = _steady_report(ids, fresh, t_done, t_mail, args, report["failures"])
    report["no_change"]["worker_cpu_seconds"] = round(_cpu_seconds(fleet) - cpu_before, 2)
    expected.update({i: (distinct + 1, 2 * args.per_folder + 1) for i in fresh})
    check_exactly_once(ids, expected, report["failures"])
    report["failures"] += overlaps(ids)
    if failed_tasks():
        report["failures"].append(f"{failed_tasks()} tasks failed")
    fleet.stop_all()
    if args.bench:
        report["ticks"] = measure_ticks(ids)
    return report


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _steady_missing(ids: list[int], fresh: set[int], t_done: Any) -> str:
    """What the automatic round still lacks ("" once complete)."""
    runs = runs_of(ids)
    unsynced = [i for i in ids if not any(r.started_at >= t_done and r.finished_at for r in runs[i])]
    unfetched = [i for i in fresh if not sum(r.fetched for r in _after(runs[i], t_done))]
    if not unsynced and not unfetched:
        return ""
    from inboxbridge.mailboxes.models import Mailbox

    sample = list(Mailbox.objects.filter(pk__in=(unsynced + unfetched)[:3]).values(
        "pk", "next_sync_at", "lease_owner", "lease_expires_at", "state", "last_error"))
    return f"not synced again: {len(unsynced)}; new mail not fetched: {len(unfetched)}; e.g. {sample}"


def _after(runs: list[Any], t_done: Any) -> list[Any]:
    """Runs that ended after the first sync was complete everywhere: whatever they fetched is
    mail delivered since (a run may start a moment before t_done and still see it)."""
    return [r for r in runs if r.finished_at and r.finished_at >= t_done]


def _steady_report(ids: list[int], fresh: set[int], t_done: Any, t_mail: Any, args: argparse.Namespace,
                   failures: list[str]) -> dict[str, Any]:
    """Once the workers have caught up with the first sync (t_done), nobody waits: each mailbox
    is synced again one interval (plus a tick and a little queueing) after its previous sync,
    or at once if that was due during the first sync; new mail (in `fresh` mailboxes, delivered
    at t_mail) is fetched once, within an interval; the others fetch nothing."""
    slack = args.tick + 8
    lags, no_change, wrong = [], [], 0
    for mailbox_id, runs in runs_of(ids).items():
        nxt = next(n for n, r in enumerate(runs) if r.started_at >= t_done and r.finished_at)
        due = max(runs[nxt - 1].finished_at + timedelta(seconds=args.interval), t_done)
        lags.append((runs[nxt].started_at - due).total_seconds())
        if (runs[nxt].started_at - runs[nxt - 1].finished_at).total_seconds() < args.interval - 1:
            failures.append(f"mailbox {mailbox_id} synced again before its interval was over")
        if mailbox_id in fresh:
            fetching = [r for r in _after(runs, t_done) if r.fetched]
            late = fetching and (fetching[0].started_at - t_mail).total_seconds() > args.interval + slack
            wrong += sum(r.fetched for r in fetching) != 1 or bool(late)
        else:
            no_change.append(runs[nxt])
            wrong += any(r.fetched for r in _after(runs, t_done))
    if max(lags) > slack:
        failures.append(f"{sum(lag > slack for lag in lags)} mailboxes not synced within the interval "
                        f"(+{slack} s): worst lags {sorted(round(lag, 1) for lag in lags)[-5:]}")
    if wrong:
        failures.append(f"{wrong} mailboxes fetched the wrong mail after the first sync")
    return {"mailboxes": len(no_change), "worker_seconds": round(seconds(no_change), 3),
            "per_mailbox_ms": round(1000 * seconds(no_change) / max(len(no_change), 1), 1),
            "max_lag_seconds": round(max(lags), 2)}


def _cpu_seconds(fleet: f.Fleet) -> float:
    """User + system CPU of the fleet's running processes (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for process in fleet.processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def scenario_kill(args: argparse.Namespace, servers: f.MailServers, fleet: f.Fleet) -> dict[str, Any]:
    """SIGKILL a worker in the middle of a big first sync; a second worker takes the mailbox over
    once the lease expires and finishes it: nothing lost, nothing twice."""
    from django.conf import settings
    from django.utils import timezone

    from inboxbridge.mailboxes.models import Mailbox

    addresses = [f"kill{n}@{f.DOMAIN}" for n in range(args.mailboxes)]
    servers.add_users(addresses)
    big = addresses[0]
    distinct = populate(servers, addresses[1:], 3)
    servers.append_many([(big, "INBOX", [f.message(big, f"big{n}", 3000) for m in range(0, 900, 100)
                                         for n in range(m, m + 100)])])
    ids = create_mailboxes(servers, addresses, imap_port=servers.stack.imaps_port)
    report: dict[str, Any] = {"failures": []}
    doomed = fleet.start("doomed", "worker")
    f.wait_until(lambda: fresh_workers(1) >= 1, 60, "the first worker", fleet=fleet)
    make_due()
    def midway() -> bool:
        mailbox = Mailbox.objects.get(pk=ids[0])
        return mailbox.lease_owner.split("/")[0].endswith(f":{doomed.pid}") and stored(ids[:1])[ids[0]][0] >= 100

    f.wait_until(midway, 120, "the first worker to be in the middle of the big sync", step=0.01, fleet=fleet)
    doomed.kill()
    killed_at = timezone.now()
    at_kill, _ = stored(ids[:1])[ids[0]]
    lease = Mailbox.objects.values_list("lease_owner", "lease_expires_at").get(pk=ids[0])
    report["killed_with_stored"] = at_kill
    if at_kill >= 900:
        report["failures"].append("the big sync ended before the kill; the scenario proves nothing")
    rescuer = fleet.start("rescuer", "worker")
    waited = f.wait_until(lambda: stored(ids[:1])[ids[0]] == (900, 900) and bool(round_after(ids[:1], killed_at)),
                          args.timeout, "the rescuer to finish the big mailbox", fleet=fleet)
    report["recovered_after_seconds"] = round(waited, 1)
    runs = _runs(ids[0])
    killed_runs = [r for r in runs if r.worker_id.endswith(f":{doomed.pid}") and r.finished_at is None]
    taken_over = [r for r in runs if r.worker_id.endswith(f":{rescuer.pid}")]
    if not killed_runs:
        report["failures"].append("no unfinished run of the killed worker was recorded")
    if not taken_over or taken_over[0].started_at < lease[1]:
        report["failures"].append(f"the mailbox was taken over before the killed worker's lease expired: {lease[1]}")
    f.wait_until(lambda: all(v == (distinct, 6) for v in stored(ids[1:]).values()), 60, "the small mailboxes")
    check_exactly_once(ids, {ids[0]: (900, 900), **{i: (distinct, 6) for i in ids[1:]}}, report["failures"])
    report["failures"] += overlaps(ids, cut_short={killed_runs[0].worker_id: killed_at} if killed_runs else None)
    if settings.TASKS_BACKEND == "database":
        report["abandoned_task_failed"] = _abandoned_task_is_failed(settings.HEARTBEAT_MAX_AGE_SECONDS)
        if not report["abandoned_task_failed"]:
            report["failures"].append("housekeeping did not mark the killed worker's task failed")
    return report


def _runs(mailbox_id: int) -> list[Any]:
    from inboxbridge.jobs.models import SyncRun

    return list(SyncRun.objects.filter(mailbox_id=mailbox_id).order_by("started_at"))


def _abandoned_task_is_failed(max_age: int) -> bool:
    from django_tasks_db.models import DBTaskResult

    from inboxbridge.jobs.housekeeping import run_housekeeping

    time.sleep(max_age + 1)
    run_housekeeping()
    return DBTaskResult.objects.filter(exception_class_path__endswith="WorkerLost").count() == 1


def scenario_schedulers(args: argparse.Namespace, servers: f.MailServers | None, fleet: f.Fleet
                        ) -> dict[str, Any]:
    """Two scheduler processes over the same due mailboxes: each enqueued exactly once."""
    addresses = [f"sched{n:04d}@{f.DOMAIN}" for n in range(args.mailboxes)]
    ids = create_mailboxes(None, addresses)
    a, b = fleet.start("scheduler-a", "manage", "run_scheduler"), fleet.start("scheduler-b", "manage", "run_scheduler")
    f.wait_until(lambda: _schedulers() >= 2, 60, "both schedulers", fleet=fleet)
    make_due()
    f.wait_until(lambda: len(_enqueued()) >= len(ids), 30, "every mailbox to be enqueued", fleet=fleet)
    time.sleep(3 * args.tick + 1)  # several more ticks each: still nothing enqueued twice
    a.stop(), b.stop()
    enqueued = _enqueued()
    twice = sorted({i for i in enqueued if enqueued.count(i) > 1})
    report: dict[str, Any] = {"enqueued": len(enqueued), "failures": []}
    if twice or sorted(enqueued) != sorted(ids):
        report["failures"].append(f"{len(twice)} mailboxes enqueued twice, {len(set(ids) - set(enqueued))} never")
    report["claim_race"] = _claim_race(ids, report["failures"])
    return report


def _claim_race(ids: list[int], failures: list[str], threads: int = 8) -> list[int]:
    """Scheduler ticks rarely meet to the millisecond; here they do: threads with connections of
    their own, released together by a barrier, each claiming a small batch per round until a round
    finds nothing left. Rounds keep every thread in the race: without them one thread could win
    the database's write lock again and again (on SQLite, while the others back off) and the race
    would prove nothing."""
    import threading

    from django.db import connection

    from inboxbridge.jobs import leases
    from inboxbridge.mailboxes.models import Mailbox

    Mailbox.objects.update(lease_owner="", lease_expires_at=None)
    make_due()
    barrier = threading.Barrier(threads)
    won: list[list[int]] = [[] for _ in range(threads)]

    this_round = [0] * threads

    def claim(n: int) -> None:
        try:
            while True:
                barrier.wait()
                batch = leases.claim_due(10, office365_enabled=False)
                won[n] += batch
                this_round[n] = len(batch)
                barrier.wait()  # every claim of the round is in before anyone looks
                if not sum(this_round):
                    return
        except BaseException:
            barrier.abort()  # the others stop waiting; the missing claims show as a failure
            raise
        finally:
            connection.close()

    workers = [threading.Thread(target=claim, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    claimed = [i for batch in won for i in batch]
    if sorted(claimed) != sorted(ids):
        failures.append(f"claim race: {len(claimed) - len(set(claimed))} claimed twice, "
                        f"{len(set(ids) - set(claimed))} never")
    return [len(batch) for batch in won]


def _schedulers() -> int:
    from inboxbridge.jobs.models import WorkerHeartbeat

    return WorkerHeartbeat.objects.filter(role="scheduler").count()


def _enqueued() -> list[int]:
    """Mailbox ids of the sync tasks waiting in the queue, whichever the backend."""
    from django.conf import settings

    if settings.TASKS_BACKEND == "redis":
        import django_rq

        jobs = django_rq.get_queue("default").get_jobs()
        return [job.args[0] for job in jobs if job.func_name.endswith("sync_mailbox")]
    from django_tasks_db.models import DBTaskResult

    return [r.args_kwargs["args"][0] for r in DBTaskResult.objects.ready() if r.task_path.endswith("sync_mailbox")]


def scenario_serve(args: argparse.Namespace, servers: f.MailServers, fleet: f.Fleet) -> dict[str, Any]:
    """`inboxbridge serve` and nothing else: its embedded worker keeps the mailboxes current."""
    import requests
    from tests.stack.netutil import free_ports

    addresses = [f"serve{n}@{f.DOMAIN}" for n in range(args.mailboxes)]
    servers.add_users(addresses)
    distinct = populate(servers, addresses, 3)
    ids = create_mailboxes(servers, addresses, imap_port=servers.stack.imaps_port)
    port = free_ports(1)[0]
    serve = fleet.start("serve", "serve", "--port", str(port))
    make_due()
    report: dict[str, Any] = {"failures": []}
    report["first_sync_seconds"] = round(f.wait_until(
        lambda: all(v == (distinct, 6) for v in stored(ids).values()), 60, "serve to sync", fleet=fleet), 1)
    servers.append_many([(a, "INBOX", [f.message(a, "later")]) for a in addresses])
    report["new_mail_seconds"] = round(f.wait_until(
        lambda: all(v == (distinct + 1, 7) for v in stored(ids).values()), args.interval + 30,
        "new mail to arrive by itself", fleet=fleet), 1)
    health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    report["healthz"] = health.status_code
    if health.status_code != 200:
        report["failures"].append(f"/healthz answered {health.status_code}: {health.text}")
    if serve.stop(signal.SIGINT) != 0:
        report["failures"].append(f"serve did not stop cleanly:\n{serve.tail()}")
    report["failures"] += overlaps(ids)
    return report


def measure_ticks(ids: list[int], idle_ticks: int = 20) -> dict[str, Any]:
    """The scheduler's cost, with the workers stopped: a tick that claims and enqueues every
    mailbox, and an idle tick (nothing due)."""
    from inboxbridge.jobs.scheduler import tick
    from inboxbridge.mailboxes.models import Mailbox

    Mailbox.objects.update(lease_owner="", lease_expires_at=None)  # what the stopped workers left queued
    make_due()
    busy = tick()
    idle = [tick().seconds for _ in range(idle_ticks)]
    return {"claim_and_enqueue_all_seconds": round(busy.seconds, 4), "enqueued": busy.enqueued,
            "idle_tick_ms": round(1000 * sorted(idle)[len(idle) // 2], 2)}


SCENARIOS = {"scale": scenario_scale, "kill": scenario_kill, "schedulers": scenario_schedulers,
             "serve": scenario_serve}

# Scenario-specific settings for every process of the fleet.
SCENARIO_SETTINGS: dict[str, dict[str, int]] = {
    "kill": {"lease": 6, "batch": 20, "heartbeat_max_age": 4},
}
