"""The wheel is the service: its packages, as setuptools finds them from pyproject.toml, hold no
tests (nor the fleet harness among them); the apps, and their templates and static files, stay."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[3]


def test_the_wheel_packages_leave_the_tests_out_and_keep_every_app():
    setuptools_config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = setuptools_config["packages"]["find"]
    # [tool.setuptools.packages.find] finds namespace packages too unless told otherwise.
    packages = find_namespace_packages(where=str(ROOT / found["where"][0]), exclude=found.get("exclude", []))
    assert [name for name in packages if "tests" in name.split(".")] == []
    source = ROOT / "src" / "inboxbridge"
    apps = {f"inboxbridge.{path.parent.name}" for path in source.glob("*/apps.py")}
    assert apps and apps <= set(packages)
    assert {"inboxbridge.templates", "inboxbridge.static"} <= {name for name in packages if name.count(".") == 1}
    assert setuptools_config["package-data"]["*"] == ["templates/**/*", "static/**/*"]
