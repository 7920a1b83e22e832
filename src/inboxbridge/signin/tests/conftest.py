from __future__ import annotations

from typing import Any

import pytest

from inboxbridge.signin import actions


@pytest.fixture
def sign_in_on(enabled_microsoft: Any, admin_user: Any) -> Any:
    """Sign in with Microsoft enabled, with no domain rule."""
    actions.save_sign_in_settings(admin_user, enabled=True, domains=[])
    return enabled_microsoft
