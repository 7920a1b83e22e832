"""The database objects behind search (see inboxbridge.mail.search): created by migration 0002 and
repaired after every `migrate`.

SQLite drops a table's triggers whenever Django rebuilds the table (most ALTERs of mail_email do),
which would leave the FTS index silently stale; `repair_search_index` runs after each migrate,
re-creates missing triggers and rebuilds the index from mail_email when it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, migrations

from inboxbridge.mail.search import FTS_TABLE, PG_COLUMN, PG_INDEX, PG_VECTOR, SEARCH_BODY_CHARS

# ruff: noqa: S608 - statements built from this module's constants, never from input

_SENDER = "{0}.from_name || ' ' || {0}.from_address"
_BODY = "substr(CASE WHEN {0}.body_text <> '' THEN {0}.body_text ELSE {0}.body_html END, 1, " + f"{SEARCH_BODY_CHARS})"
TRIGGERS = ("mail_email_fts_insert", "mail_email_fts_delete", "mail_email_fts_update")


def _values(row: str) -> str:
    return f"{row}.id, {row}.subject, {_SENDER.format(row)}, {_BODY.format(row)}"


SQLITE_TABLE = (
    # Contentless: the index only (the text is in mail_email). detail=none: which rows hold a word,
    # not where; search asks nothing more (no phrases, no columns, no ranking). No prefix index:
    # a prefix search reads the range of words it starts (narrow from 3 letters on), and the index
    # of 3-letter prefixes cost a first sync about a fifth of its writer's CPU (docs/benchmarks.md,
    # "Sync"). Token characters include Cn (unassigned in the tokenizer's Unicode 6.1), so a word
    # search.search_terms finds is always one token here, never a phrase detail=none refuses.
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    "subject, sender, body, content='', detail=none, "
    "tokenize=\"unicode61 remove_diacritics 2 categories 'L* N* Co Cn'\")"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS mail_email_fts_insert AFTER INSERT ON mail_email BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, subject, sender, body) VALUES ({_values('new')}); END",
    # A contentless table forgets a row by being told the values it indexed: built-in functions only,
    # so the same row always gives the same values.
    f"CREATE TRIGGER IF NOT EXISTS mail_email_fts_delete AFTER DELETE ON mail_email BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, subject, sender, body) VALUES ('delete', {_values('old')}); END",
    # Only when indexed columns are written: flag changes (is_seen) leave the index alone.
    "CREATE TRIGGER IF NOT EXISTS mail_email_fts_update AFTER UPDATE OF subject, from_name, from_address, "
    "body_text, body_html ON mail_email BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, subject, sender, body) VALUES ('delete', {_values('old')}); "
    f"INSERT INTO {FTS_TABLE}(rowid, subject, sender, body) VALUES ({_values('new')}); END",
]
SQLITE_REBUILD = [
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')",
    f"INSERT INTO {FTS_TABLE}(rowid, subject, sender, body) SELECT {_values('mail_email')} FROM mail_email",
]
SQLITE_INSTALL = [SQLITE_TABLE, *SQLITE_TRIGGERS, *SQLITE_REBUILD]
SQLITE_UNINSTALL = [*(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS), f"DROP TABLE IF EXISTS {FTS_TABLE}"]

# Adding a stored generated column rewrites the table once (about a minute per 100,000 emails).
PG_INSTALL = [
    f"ALTER TABLE mail_email ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON mail_email USING gin ({PG_COLUMN})",
]
PG_UNINSTALL = [f"DROP INDEX IF EXISTS {PG_INDEX}", f"ALTER TABLE mail_email DROP COLUMN IF EXISTS {PG_COLUMN}"]


class VendorRunSQL(migrations.RunSQL):
    """RunSQL for one database vendor; a no-op on the others."""

    def __init__(self, vendor: str, sql: Sequence[str], reverse_sql: Sequence[str]) -> None:
        self.vendor = vendor
        super().__init__(tuple(sql), tuple(reverse_sql))

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        name, args, kwargs = super().deconstruct()
        return name, [self.vendor, *args], kwargs

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def repair_search_index(using: str = "default", **_: Any) -> bool:
    """Re-create missing SQLite triggers and rebuild the index (True when it had to). A post_migrate
    receiver: a no-op on other databases and before migration 0002 has run."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE 'mail_email%'")
        present = {row[0] for row in cursor.fetchall()}
        if FTS_TABLE not in present or present.issuperset(TRIGGERS):
            return False
        for statement in [*SQLITE_TRIGGERS, *SQLITE_REBUILD]:
            cursor.execute(statement)
    return True
