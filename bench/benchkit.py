"""What the benchmarks share: a throw-away instance (its settings and database), 100,000 emails for
one user filled straight through the ORM, and the timing of a case (median and 95th percentile).

Imported by the scripts beside it (run as `python bench/<script>.py`, which puts this folder on the
path); it does nothing on its own.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

VOCABULARY_SIZE = 30_000
COMMON_WORD = "meeting"  # in about a quarter of the emails
MIDDLE_WORD = "invoice"  # in about one in twenty-five: where a planner is most tempted to walk the date index
RARE_WORD = "zeppelin"  # in about one in a thousand
FOLDERS = [("INBOX", "\\Inbox", 0.60), ("Archive", "\\Archive", 0.25), ("Sent Items", "\\Sent", 0.14),
           ("Receipts", "", 0.01)]


def prepare_environment(database_url: str, suffix: str, *, tasks_backend: str = "immediate") -> tuple[str, str]:
    """Settings for a throw-away instance; returns the backend's name and the temporary data
    directory to remove afterwards ("" when the caller chose one). With PostgreSQL the server of
    the URL gets a database of its own, `<name>_<suffix>`, dropped and created afresh."""
    scratch = ""
    if not os.environ.get("INBOXBRIDGE_DATA_DIR"):
        scratch = tempfile.mkdtemp(prefix="inboxbridge-bench-")
        os.environ["INBOXBRIDGE_DATA_DIR"] = scratch
    os.environ.setdefault("INBOXBRIDGE_ENCRYPTION_KEYS", "cJzPRT3mYl0Ek0oD3K0tZ7JkEJgm4lQ0YbbcVPq0o3I=")
    os.environ.setdefault("INBOXBRIDGE_SECRET_KEY", "bench-only-not-a-secret")
    os.environ["INBOXBRIDGE_ENV_FILE"] = os.devnull
    os.environ["INBOXBRIDGE_TASKS_BACKEND"] = tasks_backend
    os.environ["DJANGO_SETTINGS_MODULE"] = "inboxbridge.settings"
    if not database_url:
        os.environ.pop("DATABASE_URL", None)
        return "SQLite", scratch
    parts = urlsplit(database_url)
    name = bench_database_name(database_url, suffix)
    # Here: psycopg is needed only when a PostgreSQL URL is given.
    import psycopg

    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    return "PostgreSQL", scratch


def bench_database_name(database_url: str, suffix: str) -> str:
    return (urlsplit(database_url).path.lstrip("/") or "inboxbridge") + f"_{suffix}"


def drop_database(database_url: str, suffix: str) -> None:
    # Here: psycopg is needed only when a PostgreSQL URL is given.
    import psycopg

    parts = urlsplit(database_url)
    name = bench_database_name(database_url, suffix)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def words(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pa", "en", "dor", "bel", "fi", "gu", "zo"]
    vocabulary = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(VOCABULARY_SIZE)}
    return sorted(vocabulary - {COMMON_WORD, MIDDLE_WORD, RARE_WORD})


def fill(count: int, seed: int = 7) -> dict[str, Any]:
    """One user ("reader") with one mailbox of `count` emails in FOLDERS; returns the user and the
    folders by name. Call after django.setup() and migrate."""
    # Here: models only once django.setup() has run.
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from inboxbridge.mail.models import Email, Placement, Thread
    from inboxbridge.mailboxes.models import Folder, Mailbox

    rng = random.Random(seed)
    vocabulary = words(rng)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like, as in real text
    user = get_user_model().objects.create_user("reader", "reader@example.test", "reader-password-1")
    mailbox = Mailbox.objects.create(owner=user, email_address="reader@example.test", account_type="office365")
    folders = [Folder.objects.create(mailbox=mailbox, name=n, display_name=n, special_use=s, selected=True)
               for n, s, _ in FOLDERS]
    senders = [(f"{rng.choice(vocabulary).title()} {rng.choice(vocabulary).title()}",
                f"{rng.choice(vocabulary)}@{rng.choice(vocabulary)}.example") for _ in range(2000)]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 2000
    for start in range(0, count, batch):
        size = min(batch, count - start)
        with transaction.atomic():
            threads = Thread.objects.bulk_create([Thread(mailbox=mailbox, subject="t") for _ in range(size // 3 + 1)])
            emails = []
            for i in range(size):
                body = rng.choices(vocabulary, weights, k=rng.randint(60, 400))
                if rng.random() < 0.25:
                    body.insert(rng.randrange(len(body)), COMMON_WORD)
                if rng.random() < 0.04:
                    body.insert(rng.randrange(len(body)), MIDDLE_WORD)
                if rng.random() < 0.001:
                    body.insert(rng.randrange(len(body)), RARE_WORD)
                name, address = rng.choice(senders)
                when = now - timedelta(seconds=rng.randint(0, 5 * 365 * 86400))
                text = " ".join(body)
                subject = " ".join(rng.choices(vocabulary, weights, k=rng.randint(3, 9))).title()
                emails.append(Email(
                    mailbox=mailbox, message_key=f"<{start + i}@bench.example>",
                    message_id=f"{start + i}@bench.example", thread=threads[i // 3], subject=subject,
                    from_name=name, from_address=address, to=[["Reader", "reader@example.test"]],
                    sent_at=when, received_at=when, body_text=text,
                    body_html=f"<html><body><p>{text}</p></body></html>" if rng.random() < 0.3 else "",
                    size=len(text) + 800, is_seen=rng.random() > 0.2,
                ))
            Email.objects.bulk_create(emails)
            placements = []
            for i, email in enumerate(emails):
                choice = rng.choices(range(len(folders)), [f[2] for f in FOLDERS])[0]
                placements.append(Placement(email=email, folder=folders[choice], uid=start + i + 1))
            Placement.objects.bulk_create(placements)
        print(f"\r  stored {start + size:,} / {count:,} emails", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {"user": user, "folders": {f.name: f for f in folders}}


def set_up_and_fill(count: int) -> dict[str, Any]:
    """Set Django up on the prepared environment, give the database its schema and the instance its
    static files, then fill(count) and analyze(); returns what fill returns."""
    # Here: Django only once prepare_environment chose the settings.
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production storage needs its manifest
    started = time.perf_counter()
    data = fill(count)
    print(f"  filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    analyze()
    return data


def analyze() -> None:
    """PostgreSQL's autovacuum would have analysed a table this size; SQLite is left as the application
    leaves it (it never runs ANALYZE), so its numbers are the ones users get."""
    # Here: after django.setup().
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def percentile_95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile (ms) of `repeat` runs after a warm-up run."""
    run()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile_95(samples)


def clean_up(*, keep: bool, backend: str, database_url: str, suffix: str, scratch: str) -> None:
    """Close the connections, then drop the bench's database and data directory (unless `keep`)."""
    # Here: after django.setup().
    from django.db import connections

    connections.close_all()
    if keep:
        print(f"  kept: {os.environ.get('DATABASE_URL') or os.environ['INBOXBRIDGE_DATA_DIR']}", file=sys.stderr)
        return
    if backend == "PostgreSQL":
        drop_database(database_url, suffix)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
