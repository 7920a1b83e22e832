"""API benchmark: GET /api/v1/messages with 100,000 stored emails for one user.

Fills a fresh database with the reading benchmark's data (benchkit.fill: the same emails, folders
and planted words), makes a real API token for the user, and times the message list through the
whole request: Django's test client sends `Authorization: Bearer <token>`, so the token check, the
rate limiter, the query and the JSON serialisation are all in each figure; beside it, the query
alone (mail.queries.email_page with the filter the endpoint builds). Cases: the first page,
the unread filter, two folders, searches (`q`), and a later page through the keyset `cursor` (the
cursor of page 50, reached by following next_cursor through the API itself).

    .venv/bin/python bench/api_bench.py                       # SQLite in a temporary directory
    .venv/bin/python bench/api_bench.py --database-url postgres://postgres@127.0.0.1:5432/test

With PostgreSQL the server of the URL is used with a database of its own (`<name>_api_bench`,
dropped and re-created; --keep leaves it behind). The rate limit is raised for the run (the bench
makes a few hundred requests a minute with one token); the limiter still counts every request.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from benchkit import COMMON_WORD, MIDDLE_WORD, RARE_WORD, clean_up, prepare_environment, set_up_and_fill, timed

SUFFIX = "api_bench"
PAGE = 50  # the cursor's page: as deep as the reading bench's "Page 50"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database (and the SQLite data directory)")
    args = parser.parse_args()

    backend, scratch = prepare_environment(args.database_url, SUFFIX)
    os.environ["INBOXBRIDGE_API_RATE_LIMIT"] = "1000000"
    data = set_up_and_fill(args.emails)
    from django.test import Client
    from django.utils import timezone

    from inboxbridge.api.actions import create_token
    from inboxbridge.mail.queries import MailFilter, Position, email_page

    user, folders = data["user"], data["folders"]
    token = create_token(user=user, created_by=user, name="bench", scopes=["mail:read"],
                         expires_at=timezone.now() + timedelta(days=1)).secret

    # The test client's default host ("testserver") is not among the allowed hosts outside tests.
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", SERVER_NAME="localhost")
    url = "/api/v1/messages"

    def get(params: dict[str, Any]) -> dict[str, Any]:
        response = client.get(url + ("?" + urlencode(params) if params else ""))
        if response.status_code != 200:
            raise SystemExit(f"{params}: HTTP {response.status_code}: {response.content[:300]!r}")
        return response.json()

    cursor = ""
    for _ in range(PAGE - 1):
        cursor = get({"cursor": cursor} if cursor else {})["next_cursor"]
    before = Position.decode(cursor)
    inbox, receipts = folders["INBOX"], folders["Receipts"]
    # (label, the request's parameters, the filter and page the endpoint hands to email_page)
    cases: list[tuple[str, dict[str, Any], MailFilter, dict[str, Any]]] = [
        ("List, first page", {}, MailFilter(), {}),
        ("List, first page of 100 (limit=100)", {"limit": 100}, MailFilter(), {"size": 100}),
        ("Unread filter", {"unread": "true"}, MailFilter(unread=True), {}),
        ("Folder filter (Inbox, 60 %)", {"folder": inbox.pk}, MailFilter(folder=inbox, mailbox=inbox.mailbox), {}),
        ("Folder filter (Receipts, 1 %)", {"folder": receipts.pk},
         MailFilter(folder=receipts, mailbox=receipts.mailbox), {}),
        (f"Search, common word ({COMMON_WORD})", {"q": COMMON_WORD}, MailFilter(query=COMMON_WORD), {}),
        (f"Search, middle word ({MIDDLE_WORD})", {"q": MIDDLE_WORD}, MailFilter(query=MIDDLE_WORD), {}),
        (f"Search, rare word ({RARE_WORD})", {"q": RARE_WORD}, MailFilter(query=RARE_WORD), {}),
        ("Search, three-letter prefix (kal)", {"q": "kal"}, MailFilter(query="kal"), {}),
        ("Search, two words + unread", {"q": f"{COMMON_WORD} {MIDDLE_WORD}", "unread": "true"},
         MailFilter(query=f"{COMMON_WORD} {MIDDLE_WORD}", unread=True), {}),
        (f"Page {PAGE} (cursor)", {"cursor": cursor}, MailFilter(), {"before": before}),
        (f"Page {PAGE} (cursor) + unread + folder (Inbox)", {"cursor": cursor, "unread": "true", "folder": inbox.pk},
         MailFilter(folder=inbox, mailbox=inbox.mailbox, unread=True), {"before": before}),
    ]
    rows = []
    for label, params, filters, page in cases:
        items = len(get(params)["items"])
        assert items == len(email_page(user, filters, **page).emails)  # the query timed is the request's
        query_ms = timed(lambda f=filters, k=page: email_page(user, f, **k), args.repeat)
        rows.append((label, items, query_ms, timed(lambda p=params: get(p), args.repeat)))

    print(f"\n### {backend}, {args.emails:,} emails for one user, {args.repeat} requests per case\n")
    print("| Case | Items | Query median / p95 (ms) | GET /api/v1/messages median / p95 (ms) |")
    print("|---|---:|---:|---:|")
    for label, items, (q50, q95), (r50, r95) in rows:
        print(f"| {label} | {items} | {q50:.1f} / {q95:.1f} | {r50:.1f} / {r95:.1f} |")
    clean_up(keep=args.keep, backend=backend, database_url=args.database_url, suffix=SUFFIX, scratch=scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
