"""Settings are read, never acted on, at import: importing them creates no file, and a wrong
INBOXBRIDGE_TASKS_BACKEND or INBOXBRIDGE_ATTACHMENT_STORE, or a number that is not one, fails
Django's system checks (naming the variable, the value and what it takes) instead of ending the
process from inside the settings."""

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


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("INBOXBRIDGE_SYNC_INTERVAL", "a minute", "INBOXBRIDGE_SYNC_INTERVAL must be a whole number, got 'a minute'."),
    ("INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES", "1000",
     "INBOXBRIDGE_IMAP_MAX_LITERAL_BYTES must be at least 1048576, got 1000."),
])
def test_a_wrong_number_is_named_by_the_checks_and_stops_the_service(tmp_path, variable, value, says):
    env = {**fresh_env(tmp_path), variable: value}
    imported = subprocess.run([sys.executable, "-c", "import inboxbridge.settings; print('imported')"], env=env,
                              text=True, capture_output=True, timeout=60, check=False)
    assert (imported.returncode, imported.stdout) == (0, "imported\n"), imported.stderr
    checked = inboxbridge("manage", "check", env=env)
    assert checked.returncode == 1 and says in checked.stderr and "inboxbridge.E007" in checked.stderr
    served = inboxbridge("serve", env=env)
    assert served.returncode == 1 and says in served.stderr and "Traceback" not in served.stderr


@override_settings(SETTING_PROBLEMS=["INBOXBRIDGE_MAIL_TIMEOUT must be a whole number, got 'x'."])
def test_each_wrong_number_is_one_error_with_its_variable():
    assert problems() == ["inboxbridge.E007: INBOXBRIDGE_MAIL_TIMEOUT must be a whole number, got 'x'. "
                          "Correct it in the environment or the .env file."]
