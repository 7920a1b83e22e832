"""The search index: query building, staying in step with the table, and the plans that use it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import make_mailbox

from inboxbridge.mail import search
from inboxbridge.mail.models import Email
from inboxbridge.mail.queries import MailFilter, email_page
from inboxbridge.mail.search_schema import TRIGGERS, repair_search_index
from inboxbridge.mail.tests.helpers import message, store


def test_search_terms_are_words_only():
    assert search.search_terms('  "Budget" 2026 -- (draft) budget_v2 ') == ["budget", "2026", "draft", "v2"]
    assert search.search_terms("Zoë's café") == ["zoë", "s", "café"]
    assert search.search_terms("* OR NEAR(a b) AND NOT :* & | !") == ["or", "near", "a", "b", "and", "not"]
    assert len(search.search_terms(" ".join(f"w{i}" for i in range(50)))) == search.MAX_TERMS


def test_query_syntax_for_both_databases():
    assert search.fts5_query(["meet", "x", "ab", "abc"]) == '"meet"* "x" "ab" "abc"*'
    assert search.tsquery(["meet", "x", "ab", "abc"]) == "meet:* & x & ab & abc:*"


@pytest.fixture
def mailbox(db, django_user_model):
    return make_mailbox(django_user_model.objects.create_user("s", "s@example.test", "pw-s-1"))


def found(mailbox, text: str) -> list[str]:
    return [e.subject for e in email_page(mailbox.owner, MailFilter(query=text)).emails]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 triggers")
def test_sqlite_repairs_triggers_lost_to_a_table_rebuild(mailbox):
    store(mailbox, message("Before the rebuild"))
    with connection.cursor() as cursor:
        for name in TRIGGERS:  # what Django's table remake does to them
            cursor.execute(f"DROP TRIGGER {name}")
    Email.objects.filter(subject="Before the rebuild").update(subject="Renamed while unindexed")
    store(mailbox, message("Stored while unindexed"))
    assert found(mailbox, "unindexed") == []
    assert repair_search_index() is True
    assert sorted(found(mailbox, "unindexed")) == ["Renamed while unindexed", "Stored while unindexed"]
    assert found(mailbox, "before") == []
    assert repair_search_index() is False  # nothing to do the second time


def test_words_of_every_script_and_odd_input_search_without_error(mailbox):
    # Wancho (Unicode 12) is newer than SQLite's tokenizer tables: still one word, not a phrase.
    subject = "Greetings \U0001e2c0\U0001e2c1\U0001e2c2\U0001e2c3 and naïve café"
    store(mailbox, message(subject))
    store(mailbox, message("Something else"))
    assert found(mailbox, "\U0001e2c0\U0001e2c1\U0001e2c2") == [subject]
    assert len(found(mailbox, "naïve CAFÉ")) == 1
    for text in ['"a b"', "NEAR(a b)", "x:y", "subject:greetings", "a-b", "\u0301", "e\u0301"]:
        found(mailbox, text)  # answered, not a query-syntax error


def plan_of(mailbox, text: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        email_page(mailbox.owner, MailFilter(query=text))
    sql = next(q["sql"] for q in captured.captured_queries if "mail_email" in q["sql"] and "LIMIT" in q["sql"])
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite plan")
def test_sqlite_search_uses_the_fts_index(mailbox):
    store(mailbox, message("Findable"))
    plan = plan_of(mailbox, "findable")
    assert "VIRTUAL TABLE INDEX" in plan and "mail_email_fts" in plan
    assert "SCAN mail_email " not in plan + " "  # never a full scan of the mail


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plan")
def test_postgresql_search_uses_the_gin_index(mailbox):
    store(mailbox, message("Findable"))
    # A test-sized table is cheaper to scan than to look up (the benchmark shows the plans at
    # scale); here the question is whether the predicate the app sends can use the index at all.
    matching = search.filter_matching(Email.objects.all(), "findable")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = matching.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert search.PG_INDEX in plan, plan
    assert found(mailbox, "findable") == ["Findable"]
    # The generated column follows edits made by any writer.
    Email.objects.filter(subject="Findable").update(subject="Renamed", body_text="elsewhere")
    assert found(mailbox, "findable") == [] and found(mailbox, "elsewhere") == ["Renamed"]
