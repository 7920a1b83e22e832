"""Fixtures of the Microsoft integration's tests."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def ms_user(identity):
    """An account at the identity stand-in that signs in with password pw-1; returns its address."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.test"
    identity.add_user(email, "pw-1", name="Admin")
    return email
