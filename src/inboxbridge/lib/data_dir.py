"""The data directory made real at start-up: the directory, the keys the environment does not set,
and the SQLite database file, each created owner-only (lib/private_files.py) and only where missing.

The settings module only reads what is already there, so importing it (a linter, a type checker,
`python -c "import inboxbridge.settings"`) creates nothing; the first start of the service (any
`django.setup()`: the `inboxbridge` command, a WSGI server, the test runner) creates the rest.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet
from django.conf import settings

from inboxbridge.lib.private_files import create_private_file, private_directory


def stored_text(path: Path | None) -> str:
    """What a generated file holds, or "" when it is not there (yet)."""
    if path is None:
        return ""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _generated_or_stored(path: Path, make: str, variable: str) -> str:
    """The file's secret, generating it first when missing. Two processes starting at once: one
    generates, the other reads what the first wrote."""
    if not create_private_file(path, make + "\n"):
        return stored_text(path)
    print(f"inboxbridge: no {variable} configured; generated one into {path}. Back it up.", file=sys.stderr)
    return make


def prepare_data_dir() -> None:
    """Create the data directory, generate the keys the environment leaves to it, and create the
    SQLite database file before SQLite would create it through the umask (its -wal and -shm files
    take the database file's mode)."""
    private_directory(settings.DATA_DIR)
    # Settings read these files at import; a first start has none yet, so the values generated here
    # become the settings (once, before any request or task reads them).
    if settings.SECRET_KEY_FILE is not None:
        settings.SECRET_KEY = _generated_or_stored(
            settings.SECRET_KEY_FILE, secrets.token_urlsafe(50), "INBOXBRIDGE_SECRET_KEY"
        )
    if settings.ENCRYPTION_KEYS_FILE is not None:
        settings.ENCRYPTION_KEYS = _generated_or_stored(
            settings.ENCRYPTION_KEYS_FILE, Fernet.generate_key().decode(), "INBOXBRIDGE_ENCRYPTION_KEYS"
        ).split()
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and Path(database["NAME"]).parent == Path(settings.DATA_DIR):
        create_private_file(Path(database["NAME"]))
