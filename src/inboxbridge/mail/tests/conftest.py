"""Fixtures of the mail tests: a user with a mailbox, signed in through the test client."""

from __future__ import annotations

import pytest
from tests.factories import make_mailbox


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.test", "alice-password-1")


@pytest.fixture
def mailbox(alice):
    return make_mailbox(alice)


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client
