"""`inboxbridge serve` and `inboxbridge manage` as a newcomer runs them: a fresh data directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INBOXBRIDGE_", "DJANGO_", "DATABASE_URL"))}
    env["INBOXBRIDGE_DATA_DIR"] = str(tmp_path / "data")
    env["INBOXBRIDGE_ENV_FILE"] = os.devnull
    env["INBOXBRIDGE_EMBEDDED_WORKER"] = "0"
    return env


def inboxbridge(*args: str, env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inboxbridge.cli", *args], env=env, text=True,
                          capture_output=True, timeout=120, check=False, **kwargs)


def test_serve_on_a_fresh_data_dir_generates_keys_migrates_and_serves_pages_and_static(tmp_path):
    env = fresh_env(tmp_path)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "inboxbridge.cli", "serve", "--port", str(port)], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                login = requests.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.time() < deadline, "serve did not answer within 60 s"
                time.sleep(0.3)
        assert login.status_code == 200
        assert "Sign in" in login.text
        assert login.headers["Server"] == "inboxbridge"  # waitress, not Django's runserver
        css = next(part.split('"')[0] for part in login.text.split('href="')[1:] if ".css" in part.split('"')[0])
        assert requests.get(f"http://127.0.0.1:{port}{css}", timeout=5).status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/system/configuration/integrations/microsoft/",
                            allow_redirects=False, timeout=5).status_code == 302
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "generated one into" in stderr and "INBOXBRIDGE_ENCRYPTION_KEYS" in stderr
    assert "there is no administrator yet" in stderr and "createsuperuser" in stderr
    assert (tmp_path / "data" / "encryption.keys").stat().st_mode & 0o077 == 0
    assert (tmp_path / "data" / "inboxbridge.sqlite3").exists()


def test_manage_createsuperuser_noinput_works(tmp_path):
    env = fresh_env(tmp_path)
    assert inboxbridge("manage", "migrate", "-v0", env=env).returncode == 0
    env["DJANGO_SUPERUSER_PASSWORD"] = "a-long-password-42"
    result = inboxbridge("manage", "createsuperuser", "--noinput", "--username", "a", "--email", "a@x.test", env=env)
    assert result.returncode == 0, result.stderr
    check = inboxbridge("manage", "shell", "-c",
                        "from django.contrib.auth.models import User; print(User.objects.get(username='a').is_staff)",
                        env=env)
    assert check.stdout.strip().splitlines()[-1] == "True"


def test_generate_encryption_key_prints_a_fresh_key_the_service_accepts(tmp_path):
    from cryptography.fernet import Fernet

    env = fresh_env(tmp_path)
    first = inboxbridge("manage", "generate_encryption_key", env=env)
    second = inboxbridge("manage", "generate_encryption_key", env=env)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    key = first.stdout.strip()
    assert key != second.stdout.strip()  # a new key each time, never a fixed one
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"token")) == b"token"
    # The printed key is what INBOXBRIDGE_ENCRYPTION_KEYS takes: the service starts with it and
    # writes no key file of its own.
    service = {**fresh_env(tmp_path / "service"), "INBOXBRIDGE_ENCRYPTION_KEYS": key}
    checked = inboxbridge("manage", "check", env=service)
    assert checked.returncode == 0, checked.stderr
    assert not (tmp_path / "service" / "data" / "encryption.keys").exists()
