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
import sys
from collections.abc import Callable
from typing import Any

from benchkit import COMMON_WORD, MIDDLE_WORD, RARE_WORD, clean_up, prepare_environment, set_up_and_fill, timed

SUFFIX = "reading_bench"

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

    backend, scratch = prepare_environment(args.database_url, SUFFIX)
    data = set_up_and_fill(args.emails)
    from django.test import Client
    from django.urls import reverse

    from inboxbridge.mail.queries import MailFilter, email_page

    user, folders = data["user"], data["folders"]

    position = None
    for _ in range(49):
        position = email_page(user, MailFilter(), before=position).older
    page_50 = position.encode() if position else ""

    # The test client's default host ("testserver") is not among the allowed hosts outside tests.
    client = Client(SERVER_NAME="localhost")
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
    clean_up(keep=args.keep, backend=backend, database_url=args.database_url, suffix=SUFFIX, scratch=scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
