"""Reading benchmark: My Emails with 100,000 stored emails for one user.

Fills a fresh database straight through the ORM (bulk_create, no IMAP), then times the list, the
unread and folder filters, searches and page 50 (keyset), each as the query the view runs and as
the whole page (Django test client, template included), and prints the query plans.

    .venv/bin/python bench/reading_bench.py                       # SQLite in a temporary directory
    .venv/bin/python bench/reading_bench.py --database-url postgres://postgres@127.0.0.1:5432/test

With PostgreSQL the server of the URL is used with a database of its own
(`<name>_reading_bench`, dropped and re-created; --keep leaves it behind).
"""

from __future__ import annotations

import argparse
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


def prepare_environment(database_url: str) -> tuple[str, str]:
    """Settings for a throw-away instance; returns the backend's name and the temporary data
    directory to remove afterwards ("" when the caller chose one)."""
    scratch = ""
    if not os.environ.get("INBOXBRIDGE_DATA_DIR"):
        scratch = tempfile.mkdtemp(prefix="inboxbridge-bench-")
        os.environ["INBOXBRIDGE_DATA_DIR"] = scratch
    os.environ.setdefault("INBOXBRIDGE_ENCRYPTION_KEYS", "cJzPRT3mYl0Ek0oD3K0tZ7JkEJgm4lQ0YbbcVPq0o3I=")
    os.environ.setdefault("INBOXBRIDGE_SECRET_KEY", "bench-only-not-a-secret")
    os.environ["INBOXBRIDGE_ENV_FILE"] = os.devnull
    os.environ["INBOXBRIDGE_TASKS_BACKEND"] = "immediate"
    os.environ["DJANGO_SETTINGS_MODULE"] = "inboxbridge.settings"
    if not database_url:
        os.environ.pop("DATABASE_URL", None)
        return "SQLite", scratch
    parts = urlsplit(database_url)
    name = (parts.path.lstrip("/") or "inboxbridge") + "_reading_bench"
    import psycopg

    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    return "PostgreSQL", scratch


def drop_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = (parts.path.lstrip("/") or "inboxbridge") + "_reading_bench"
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def words(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "shi", "pa", "en", "dor", "bel", "fi", "gu", "zo"]
    vocabulary = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(VOCABULARY_SIZE)}
    return sorted(vocabulary - {COMMON_WORD, MIDDLE_WORD, RARE_WORD})


def fill(count: int, seed: int = 7) -> dict[str, Any]:
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


def analyze() -> None:
    """PostgreSQL's autovacuum would have analysed a table this size; SQLite is left as the application
    leaves it (it never runs ANALYZE), so its numbers are the ones users get."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float]:
    run()  # warm caches and connections
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def plans(run: Callable[[], Any]) -> list[tuple[str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        run()
    out = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if "mail_email" not in sql or not sql.lstrip().upper().startswith("SELECT"):
            continue
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
        with connection.cursor() as cursor:
            cursor.execute(prefix + sql)
            rows = cursor.fetchall()
        lines = [f"{'  ' * _depth(row, rows)}{row[-1]}" for row in rows] if connection.vendor == "sqlite" \
            else [row[0] for row in rows]
        plan = "\n".join(line if len(line) < 240 else line[:240] + "..." for line in lines)
        out.append((sql, plan))
    return out


def _depth(row: tuple[Any, ...], rows: list[tuple[Any, ...]]) -> int:
    parents = {r[0]: r[1] for r in rows}
    depth, parent = 0, row[1]
    while parent in parents:
        depth, parent = depth + 1, parents[parent]
    return depth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the database (and the SQLite data directory)")
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()

    backend, scratch = prepare_environment(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from inboxbridge.mail.queries import MailFilter, email_page

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production storage needs its manifest
    started = time.perf_counter()
    data = fill(args.emails)
    print(f"  filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    analyze()
    user, folders = data["user"], data["folders"]

    position = None
    for _ in range(49):
        position = email_page(user, MailFilter(), before=position).older
    page_50 = position.encode() if position else ""

    client = Client()
    client.force_login(user)
    list_url = reverse("mail:list")
    cases: list[tuple[str, MailFilter, dict[str, Any], str]] = [
        ("List, first page", MailFilter(), {}, list_url),
        ("Unread filter", MailFilter(unread=True), {}, list_url + "?unread=1"),
        ("Folder filter (Inbox, 60 %)", MailFilter(folder=folders["INBOX"]), {},
         reverse("mail:folder", args=[folders["INBOX"].pk])),
        ("Folder filter (Receipts, 1 %)", MailFilter(folder=folders["Receipts"]), {},
         reverse("mail:folder", args=[folders["Receipts"].pk])),
        (f"Search, common word ({COMMON_WORD})", MailFilter(query=COMMON_WORD), {}, f"{list_url}?q={COMMON_WORD}"),
        (f"Search, middle word ({MIDDLE_WORD})", MailFilter(query=MIDDLE_WORD), {}, f"{list_url}?q={MIDDLE_WORD}"),
        (f"Search, rare word ({RARE_WORD})", MailFilter(query=RARE_WORD), {}, f"{list_url}?q={RARE_WORD}"),
        # The shortest prefix searched: every word starting "kal" (about 130 of the vocabulary).
        ("Search, three-letter prefix (kal)", MailFilter(query="kal"), {}, f"{list_url}?q=kal"),
        ("Search, two words + unread", MailFilter(query=f"{COMMON_WORD} {MIDDLE_WORD}", unread=True), {},
         f"{list_url}?q={COMMON_WORD}+{MIDDLE_WORD}&unread=1"),
        ("Page 50 (keyset)", MailFilter(), {"before": position}, f"{list_url}?before={page_50}"),
    ]
    rows = []
    from inboxbridge.mail.models import Email
    from inboxbridge.mail.queries import message_view, visible_emails

    opened = Email.objects.filter(is_seen=True, body_html__gt="").order_by("-received_at").first()
    assert opened is not None
    detail_url = reverse("mail:detail", args=[opened.pk])
    message_ms = timed(lambda: message_view(visible_emails(user).get(pk=opened.pk)), args.repeat)
    detail_ms = timed(lambda: client.get(detail_url), args.repeat)
    body_ms = timed(lambda: client.get(reverse("mail:body", args=[opened.pk])), args.repeat)
    for label, filters, kwargs, url in cases:
        query_ms = timed(lambda f=filters, k=kwargs: email_page(user, f, **k), args.repeat)
        page_ms = timed(lambda u=url: client.get(u), args.repeat)
        assert client.get(url).status_code == 200
        rows.append((label, query_ms, page_ms, len(email_page(user, filters, **kwargs).emails)))

    print(f"\n### {backend}, {args.emails:,} emails for one user\n")
    print("| Case | Rows | Query median / p95 (ms) | Whole page median / p95 (ms) |")
    print("|---|---:|---:|---:|")
    for label, (q50, q95), (p50, p95), count in rows:
        print(f"| {label} | {count} | {q50:.1f} / {q95:.1f} | {p50:.1f} / {p95:.1f} |")
    print(f"| Message page (read, HTML) | 1 | {message_ms[0]:.1f} / {message_ms[1]:.1f} "
          f"| {detail_ms[0]:.1f} / {detail_ms[1]:.1f} |")
    print(f"| Message body frame (sanitised HTML) | 1 | - | {body_ms[0]:.1f} / {body_ms[1]:.1f} |")
    if not args.no_plans:
        for label, filters, kwargs, _url in cases:
            print(f"\n#### {label}\n")
            for sql, plan in plans(lambda f=filters, k=kwargs: email_page(user, f, **k)):
                print("```\n" + sql[:600] + ("..." if len(sql) > 600 else "") + "\n--\n" + plan + "\n```")
    from django.db import connections

    connections.close_all()
    if args.keep:
        print(f"  kept: {os.environ.get('DATABASE_URL') or os.environ['INBOXBRIDGE_DATA_DIR']}", file=sys.stderr)
    else:
        if backend == "PostgreSQL":
            drop_database(args.database_url)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
