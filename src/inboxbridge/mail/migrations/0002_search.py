"""Full-text search: an FTS5 table kept by triggers on SQLite, a GIN expression index on PostgreSQL
(the statements live in inboxbridge.mail.search_schema, next to the queries that must match them)."""

from __future__ import annotations

from django.db import migrations

from inboxbridge.mail.search_schema import (
    PG_INSTALL,
    PG_UNINSTALL,
    SQLITE_INSTALL,
    SQLITE_UNINSTALL,
    VendorRunSQL,
)


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial")]

    operations = [
        VendorRunSQL("sqlite", SQLITE_INSTALL, SQLITE_UNINSTALL),
        VendorRunSQL("postgresql", PG_INSTALL, PG_UNINSTALL),
    ]
