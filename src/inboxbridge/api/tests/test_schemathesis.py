"""schemathesis against the OpenAPI document, through the WSGI application in this process: for
every operation, requests generated from the document (valid and not) with a token of every scope
get no 5xx, and every answer matches the document (status, content type, body schema, headers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from inboxbridge.api.tests.conftest import World, make_token

pytestmark = pytest.mark.django_db

# Few examples: enough to cross every operation's parameters and refusals, short enough for the suite.
MAX_EXAMPLES = 12

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.fixture(autouse=True)
def _keep_the_test_database_open() -> Iterator[None]:
    """As Django's test client does: a request must not close the test's database connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(world: World, settings) -> str:
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    return make_token(world.alice)


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_its_document(case, token: str):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
