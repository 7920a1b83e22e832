"""Fixtures of the event tests: the webhooks' local receiver and the settings that let a webhook
reach it (shared with the webhooks' own tests)."""

from inboxbridge.webhooks.tests.conftest import _private_allowed, receiver  # noqa: F401 (fixtures, by name)
