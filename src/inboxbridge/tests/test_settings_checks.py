"""Settings are read, never acted on, at import: importing them creates no file, and a wrong
INBOXBRIDGE_TASKS_BACKEND or INBOXBRIDGE_ATTACHMENT_STORE fails Django's system checks (naming the
variable, the value and what it takes) instead of ending the process from inside the settings."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from inboxbridge.tests.test_service_commands import fresh_env, inboxbridge


def problems() -> list[str]:
    return [f"{problem.id}: {problem.msg} {problem.hint}" for problem in run_checks(tags=["inboxbridge"])
            if problem.is_serious()]


@override_settings(TASKS_BACKEND="celery")
def test_an_unknown_tasks_backend_fails_the_check_with_the_allowed_values():
    assert problems() == [
        "inboxbridge.E005: INBOXBRIDGE_TASKS_BACKEND is 'celery', which is not a task backend. "
        "Set INBOXBRIDGE_TASKS_BACKEND to one of: database, redis, immediate."
    ]


@override_settings(ATTACHMENT_STORE="s3")
def test_an_unknown_attachment_store_fails_the_check_with_the_allowed_values():
    assert problems() == [
        "inboxbridge.E006: INBOXBRIDGE_ATTACHMENT_STORE is 's3', which is not an attachment store. "
        "Set INBOXBRIDGE_ATTACHMENT_STORE to one of: files, database."
    ]


@pytest.mark.parametrize("backend", ["database", "redis", "immediate"])
@pytest.mark.parametrize("store", ["files", "database"])
def test_every_allowed_value_passes_the_checks(backend, store):
    with override_settings(TASKS_BACKEND=backend, ATTACHMENT_STORE=store):
        assert problems() == []


@pytest.mark.parametrize("data_dir_exists", [True, False])
def test_importing_the_settings_creates_no_file(tmp_path, data_dir_exists):
    env = fresh_env(tmp_path)  # no keys in the environment: a start would generate both
    if data_dir_exists:
        (tmp_path / "data").mkdir()
    before = sorted(tmp_path.rglob("*"))
    run = subprocess.run([sys.executable, "-c", "import inboxbridge.settings"], env=env, text=True,
                         capture_output=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert sorted(tmp_path.rglob("*")) == before
    assert run.stderr == ""  # nothing generated, so nothing to announce


@pytest.mark.parametrize("verb", ["serve", "worker", "sync"])
def test_a_wrong_setting_stops_the_service_commands_with_its_name(tmp_path, verb):
    env = {**fresh_env(tmp_path), "INBOXBRIDGE_TASKS_BACKEND": "celery", "INBOXBRIDGE_ATTACHMENT_STORE": "s3"}
    run = inboxbridge(verb, env=env)
    assert run.returncode == 1
    assert "INBOXBRIDGE_TASKS_BACKEND is 'celery'" in run.stderr
    assert "one of: database, redis, immediate" in run.stderr
    assert "INBOXBRIDGE_ATTACHMENT_STORE is 's3'" in run.stderr and "one of: files, database" in run.stderr
    assert "Traceback" not in run.stderr


def test_importing_the_settings_with_a_wrong_value_does_not_exit(tmp_path):
    env = {**fresh_env(tmp_path), "INBOXBRIDGE_TASKS_BACKEND": "celery", "INBOXBRIDGE_ATTACHMENT_STORE": "s3"}
    run = subprocess.run([sys.executable, "-c", "import inboxbridge.settings; print('imported')"], env=env,
                         text=True, capture_output=True, timeout=60, check=False)
    assert (run.returncode, run.stdout) == (0, "imported\n"), run.stderr
