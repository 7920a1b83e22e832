"""Rebuild the SQLite full-text index without word positions (detail=none, see
inboxbridge.mail.search_schema): about a minute per 100,000 emails, once."""

from __future__ import annotations

from django.db import migrations

from inboxbridge.mail.search_schema import SQLITE_INSTALL, SQLITE_UNINSTALL, VendorRunSQL


class Migration(migrations.Migration):
    dependencies = [("mail", "0002_search")]

    operations = [
        VendorRunSQL("sqlite", [*SQLITE_UNINSTALL, *SQLITE_INSTALL], migrations.RunSQL.noop),
    ]
