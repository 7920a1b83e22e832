"""Fixtures shared by every app's tests: the identity-platform stand-in, Dovecot, Postfix, Chromium."""

pytest_plugins = ["tests.stack.fixtures", "tests.fixtures"]
