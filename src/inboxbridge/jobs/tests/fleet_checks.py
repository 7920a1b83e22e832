"""What the fleet scenarios set up and check, through the ORM of the fleet's own database."""

from __future__ import annotations

import os
from datetime import timedelta
from itertools import pairwise
from typing import Any

from inboxbridge.jobs.tests import fleet as f


def setup_django(env: dict[str, str]) -> None:
    # Exactly the fleet's environment: a DATABASE_URL inherited from a test run on PostgreSQL
    # must not point this process at another database than its workers.
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def create_mailboxes(servers: f.MailServers | None, addresses: list[str], *, imap_port: int = 993) -> list[int]:
    from django.contrib.auth import get_user_model

    from inboxbridge.mailboxes.models import Folder, Mailbox

    far = _now() + timedelta(days=1)  # not due until the scenario says so
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=a.split("@")[0], email=a) for a in addresses])
    mailboxes = Mailbox.objects.bulk_create([Mailbox(
        owner=user, email_address=address, account_type=Mailbox.AccountType.OTHER,
        imap_host="127.0.0.1", imap_port=imap_port, imap_ssl=True, username=address,
        password=servers.passwords[address] if servers else "unused", next_sync_at=far,
    ) for user, address in zip(users, addresses, strict=True)])
    Folder.objects.bulk_create([Folder(mailbox=m, name=name, display_name=name, delimiter="/", special_use=use,
                                       selected=True)
                                for m in mailboxes for name, use in (("INBOX", "\\Inbox"), ("Archive", "\\Archive"))])
    return [m.pk for m in mailboxes]


def populate(servers: f.MailServers, addresses: list[str], per_folder: int, body: int = 1500) -> int:
    """per_folder messages in INBOX and in Archive; Archive's first is a copy of INBOX's first (the
    same Message-ID in two folders is one stored email). Returns the distinct messages per mailbox."""
    work = []
    for address in addresses:
        inbox = [f.message(address, f"i{n}", body) for n in range(per_folder)]
        archive = inbox[:1] + [f.message(address, f"a{n}", body) for n in range(1, per_folder)]
        work += [(address, "INBOX", inbox), (address, "Archive", archive)]
    servers.append_many(work)
    return 2 * per_folder - 1


def make_due(ids: list[int] | None = None) -> Any:
    from inboxbridge.mailboxes.models import Mailbox

    now = _now()
    (Mailbox.objects.filter(pk__in=ids) if ids else Mailbox.objects.all()).update(next_sync_at=now)
    return now


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def fresh_workers(count: int) -> int:
    from inboxbridge.jobs.models import WorkerHeartbeat

    return WorkerHeartbeat.objects.filter(role="worker", seen_at__gte=_now() - timedelta(seconds=10)).count()


def stored(ids: list[int]) -> dict[int, tuple[int, int]]:
    """mailbox -> (emails, placements)."""
    from django.db.models import Count

    from inboxbridge.mail.models import Email, Placement

    emails = dict(Email.objects.filter(mailbox_id__in=ids).values_list("mailbox_id").annotate(n=Count("id")))
    places = dict(Placement.objects.filter(email__mailbox_id__in=ids).values_list("email__mailbox_id")
                  .annotate(n=Count("id")))
    return {i: (emails.get(i, 0), places.get(i, 0)) for i in ids}


def runs_of(ids: list[int]) -> dict[int, list[Any]]:
    from inboxbridge.jobs.models import SyncRun

    runs: dict[int, list[Any]] = {i: [] for i in ids}
    for run in SyncRun.objects.filter(mailbox_id__in=ids).order_by("started_at", "id"):
        runs[run.mailbox_id].append(run)
    return runs


def overlaps(ids: list[int], cut_short: dict[str, Any] | None = None) -> list[str]:
    """Runs of one mailbox that overlap. A run without an end (its worker was killed) ends at the
    kill: `cut_short` maps worker ids to the time they were killed."""
    problems = []
    for mailbox_id, runs in runs_of(ids).items():
        for before, after in pairwise(runs):
            end = before.finished_at or (cut_short or {}).get(before.worker_id)
            if end is None or end > after.started_at:
                problems.append(f"mailbox {mailbox_id}: run by {before.worker_id} [{before.started_at}, {end}] "
                                f"overlaps run by {after.worker_id} from {after.started_at}")
    return problems


def round_after(ids: list[int], since: Any) -> dict[int, Any]:
    """Each mailbox's first complete run that started after `since`."""
    found: dict[int, Any] = {}
    for mailbox_id, runs in runs_of(ids).items():
        for run in runs:
            if run.started_at > since and run.outcome == "ok":
                found[mailbox_id] = run
                break
    return found


def failed_tasks() -> int:
    from django.conf import settings

    if settings.TASKS_BACKEND == "redis":
        import django_rq

        return sum(len(django_rq.get_queue(n).failed_job_registry) for n in settings.RQ_QUEUES)
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.failed().count()


def seconds(runs: list[Any]) -> float:
    return sum((r.finished_at - r.started_at).total_seconds() for r in runs)


def check_exactly_once(ids: list[int], expected: dict[int, tuple[int, int]], failures: list[str]) -> None:
    actual = stored(ids)
    wrong = {i: (actual[i], expected[i]) for i in ids if actual[i] != expected[i]}
    if wrong:
        failures.append(f"{len(wrong)} mailboxes do not hold every message exactly once, e.g. "
                        f"{list(wrong.items())[:3]} (emails, placements) vs expected")
