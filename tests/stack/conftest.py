"""Makes `pytest tests/stack` work on its own; the project's root conftest normally loads
the plugin with ``pytest_plugins = ["tests.stack.fixtures"]``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PLUGIN = "tests.stack.fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.has_plugin(PLUGIN):
        return  # already loaded by the root conftest
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    config.pluginmanager.import_plugin(PLUGIN)
