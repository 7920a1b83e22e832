"""Directories and files only their owner may open, whatever the umask of the process.

The data directory holds the database (every synchronized mail), the secret key and the
encryption keys: a umask of 022 (or 000 under some service managers) would otherwise leave them
readable by every local user. `mkdir` and `open` take their mode through the umask, so the mode is
set again explicitly after creating.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> Path:
    """Create `path` (and missing parents) readable by its owner only. An existing directory is
    left as its operator set it up (it may be shared with a backup user on purpose)."""
    if not path.is_dir():
        path.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
        os.chmod(path, PRIVATE_DIRECTORY)
    return path


def create_private_file(path: Path, text: str = "") -> bool:
    """Create `path` readable by its owner only, holding `text`; False (and untouched) when it
    exists already. Two processes starting at once: one creates it, the other sees it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(text)
    return True
