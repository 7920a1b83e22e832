"""What the System Information page shows: versions and the health of the outside connections."""

from __future__ import annotations

import platform

import django
from django.conf import settings
from django.db import connection

import inboxbridge
from inboxbridge.microsoft import client
from inboxbridge.microsoft.config import load_config


def database_description() -> str:
    vendor = connection.vendor
    if vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        row = cursor.fetchone()
    return str(row[0]) if row else vendor


def system_information() -> list[tuple[str, str]]:
    config = load_config()
    reachable, detail = client.discovery_answers(settings.MICROSOFT_AUTHORITY_HOST, config.tenant_id)
    integration = "configured" if config.is_complete else "not configured"
    integration += ", enabled" if config.email_sync_enabled else ", disabled"
    return [
        ("inboxbridge version", inboxbridge.__version__),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("Database", database_description()),
        ("Task backend", str(settings.TASKS["default"]["BACKEND"])),
        ("Microsoft integration", integration),
        ("Authority host", settings.MICROSOFT_AUTHORITY_HOST),
        ("Discovery document", ("answers: " if reachable else "does not answer: ") + detail),
    ]
