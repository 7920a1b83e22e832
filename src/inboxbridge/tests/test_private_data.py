"""The data directory, the SQLite database and the generated keys are created for their owner
only, whatever the umask the service is started with."""

from __future__ import annotations

import stat
import subprocess
import sys

from inboxbridge.tests.test_service_commands import fresh_env


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_dir_and_its_files_are_private_under_a_permissive_umask(tmp_path):
    env = fresh_env(tmp_path)
    data = tmp_path / "data"
    migrate = subprocess.run([sys.executable, "-m", "inboxbridge.cli", "manage", "migrate", "--noinput"], env=env,
                             text=True, capture_output=True, timeout=120, check=False, umask=0o000)
    assert migrate.returncode == 0, migrate.stderr

    assert mode(data) == 0o700
    files = {path.name: mode(path) for path in data.iterdir() if path.is_file()}
    assert {"secret_key", "encryption.keys", "inboxbridge.sqlite3"} <= files.keys()
    assert files == dict.fromkeys(files, 0o600)  # the database's -wal and -shm files too, if left


def test_an_existing_database_file_is_kept(tmp_path):
    env = fresh_env(tmp_path)
    for _ in range(2):  # the second start finds the database and keys of the first
        run = subprocess.run([sys.executable, "-m", "inboxbridge.cli", "manage", "migrate", "--noinput"], env=env,
                             text=True, capture_output=True, timeout=120, check=False)
        assert run.returncode == 0, run.stderr
    assert "No migrations to apply" in run.stdout
    assert "generated one into" not in run.stderr
