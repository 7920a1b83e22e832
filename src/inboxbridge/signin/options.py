"""Settings of Sign in with Microsoft kept in the settings store, beside those of configuration.store."""

from __future__ import annotations

from inboxbridge.configuration.store import Option

SIGN_IN_TENANTS = Option("microsoft.sign_in_tenants", "Directories whose accounts may sign in")
