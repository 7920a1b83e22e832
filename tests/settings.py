"""Settings for the test suite: the product's settings with a throw-away data directory."""

import os
import tempfile

os.environ.setdefault("INBOXBRIDGE_DATA_DIR", tempfile.mkdtemp(prefix="inboxbridge-tests-"))
# A fixed, public test key: nothing encrypted with it leaves the test run.
os.environ.setdefault("INBOXBRIDGE_ENCRYPTION_KEYS", "cJzPRT3mYl0Ek0oD3K0tZ7JkEJgm4lQ0YbbcVPq0o3I=")
os.environ.setdefault("INBOXBRIDGE_SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("INBOXBRIDGE_ENV_FILE", os.devnull)
# The test stack's Dovecot and Postfix listen on loopback; tests of the guard itself switch this off.
os.environ.setdefault("INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS", "true")

from inboxbridge.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not the shared-cache in-memory default: tests see the same WAL locking as production.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
