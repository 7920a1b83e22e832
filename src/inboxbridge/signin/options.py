"""Settings of Sign in with Microsoft, kept in the generic settings store (configuration.store).

The keys are those stored since the first release, so saved values survive.
"""

from __future__ import annotations

from inboxbridge.configuration.store import Option

SIGN_IN_ENABLED = Option("microsoft.sign_in_enabled", "Sign in with Microsoft")
SIGN_IN_DOMAINS = Option("microsoft.sign_in_domains", "Domains whose accounts may link themselves")
SIGN_IN_TENANTS = Option("microsoft.sign_in_tenants", "Directories whose accounts may sign in")
