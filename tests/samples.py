"""CPython's own email test messages (test.test_email's data folder): odd but real mail that several
suites feed through the parser, the pages and the sync. Missing, they fail like any other part of the
test stack (Debian's python3 ships them in libpython3-testsuite)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.stack.fixtures import missing_part


def sample_dir() -> Path | None:
    spec = importlib.util.find_spec("test.test_email")
    if spec is None or not spec.submodule_search_locations:
        return None
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return data if data.is_dir() else None


def sample_messages() -> list[Path]:
    """Every msg_*.txt sample, or an empty list (for parametrizing at collection time)."""
    folder = sample_dir()
    return sorted(folder.glob("msg_*.txt")) if folder else []


def require_sample_messages() -> list[Path]:
    """The samples, failing the test when this Python has none."""
    samples = sample_messages()
    if not samples:
        missing_part("this Python has no test.test_email samples (Debian: install libpython3-testsuite)")
    return samples
