"""Full-text search over subject, sender and body, on the database's own index.

SQLite: an FTS5 table `mail_email_fts` (contentless: it holds the index, not a second copy of the
mail), kept in step with mail_email by triggers, so every writer (sync, purge, a shell) keeps it
right without knowing it exists. PostgreSQL: a generated tsvector column `search_vector` (not a
model field: Django never writes it) with a GIN index. Both are created by migration 0002 from
inboxbridge.mail.search_schema.

Why a stored column and not only an expression index on PostgreSQL: for a word in a few percent of
the mail, the planner walks the date index and filters row by row, which with an expression index
means re-running to_tsvector on every row it passes (measured: 350 ms for a word in 4.5 % of
100,000 emails; 13 ms with the stored column). See docs/benchmarks.md, "Reading".

Words of three letters or more are matched as prefixes ("meet" finds "meeting"), all must occur; results come in
date order like the rest of the list, not by rank. Only the first SEARCH_BODY_CHARS characters of a
body are indexed. Bodies without a text part are indexed from their HTML (tags stripped on
PostgreSQL; on SQLite the markup's words are indexed too, which costs a few false hits).
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from inboxbridge.mail.models import Email

SEARCH_BODY_CHARS = 100_000
MAX_TERMS = 8
# Shorter words match whole words only: "ka*" would expand to thousands of index terms (measured:
# 50 ms on PostgreSQL for two words with 100,000 emails) for a result nobody can use.
PREFIX_MIN_CHARS = 3
MAX_QUERY_CHARS = 200
# Letters and digits only: the same split as FTS5's unicode61 tokenizer and PostgreSQL's parser, and
# nothing left that either query syntax would read as an operator.
_TERM = re.compile(r"[^\W_]+")

FTS_TABLE = "mail_email_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "mail_email_search_idx"
# The searchable text of a row. The address is indexed whole and split at "@" and ".", so both
# "bob@example.org" and "example" find it. strip(): no word positions, nothing here ranks by them.
PG_VECTOR = (
    "strip(to_tsvector('simple'::regconfig, left(subject, 1000) || ' ' || from_name || ' ' || "
    "translate(from_address, '@.', '  ') || ' ' || from_address || ' ' || left(CASE WHEN body_text <> '' "
    "THEN body_text ELSE regexp_replace(left(body_html, 400000), '<[^>]*>', ' ', 'g') END, "
    f"{SEARCH_BODY_CHARS})))"
)


def search_terms(text: str) -> list[str]:
    """The words of a search box entry, lower-cased, duplicates removed, at most MAX_TERMS."""
    terms: list[str] = []
    for term in _TERM.findall(text[:MAX_QUERY_CHARS].lower()):
        if term not in terms:
            terms.append(term)
    return terms[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    return " ".join(f'"{t}"*' if len(t) >= PREFIX_MIN_CHARS else f'"{t}"' for t in terms)


def tsquery(terms: list[str]) -> str:
    return " & ".join(f"{t}:*" if len(t) >= PREFIX_MIN_CHARS else t for t in terms)


def filter_matching(emails: QuerySet[Email], text: str) -> QuerySet[Email]:
    """Narrow `emails` to those matching every word of `text`; none when it has no words."""
    terms = search_terms(text)
    if not terms:
        return emails.none()
    if connection.vendor == "postgresql":
        # Only constants go into the SQL text; the words travel as a parameter.
        match = f'"{Email._meta.db_table}"."{PG_COLUMN}" @@ to_tsquery(\'simple\'::regconfig, %s)'
        return emails.filter(RawSQL(match, [tsquery(terms)], output_field=BooleanField()))  # noqa: S611
    if connection.vendor == "sqlite":
        # The subquery yields the matching rowids (= email ids) from the index; SQLite probes it
        # while walking the date index, or drives from it when the word is rare.
        matches = RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [fts5_query(terms)])  # noqa: S608,S611
        return emails.filter(id__in=matches)
    # Other databases: correct, unindexed.
    for term in terms:
        emails = emails.filter(_contains(term))
    return emails


def _contains(term: str) -> Q:
    return (
        Q(subject__icontains=term) | Q(from_name__icontains=term) | Q(from_address__icontains=term)
        | Q(body_text__icontains=term)
    )
