"""What the System Information page shows: versions, and the health of the outside connections.

The outside systems' rows come from their own apps (the Microsoft integration registers its rows
from its `ready()`), so this app, which they store their settings in, imports none of them.
"""

from __future__ import annotations

import platform
import sqlite3
from collections.abc import Callable

import django
from django.conf import settings
from django.db import connection

import inboxbridge

Rows = Callable[[], list[tuple[str, str]]]
_sections: list[Rows] = []


def register(rows: Rows) -> None:
    """Add rows to the page, after the versions; called from an app's `ready()`."""
    if rows not in _sections:
        _sections.append(rows)


def database_description() -> str:
    vendor = connection.vendor
    if vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        row = cursor.fetchone()
    return str(row[0]) if row else vendor


def system_information() -> list[tuple[str, str]]:
    rows = [
        ("inboxbridge version", inboxbridge.__version__),
        ("Python", platform.python_version()),
        ("Django", django.get_version()),
        ("Database", database_description()),
        ("Task backend", str(settings.TASKS["default"]["BACKEND"])),
    ]
    for section in _sections:
        rows += section()
    return rows
