"""schemathesis against the OpenAPI document, through the WSGI application in this process: for
every operation, requests generated from the document (valid and not) with a token of every scope
get no 5xx, and every answer matches the document (status, content type, body schema, headers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import Case, Response
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from inboxbridge.api.tests.conftest import World, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("originals_from_the_store")]

# Few examples: enough to cross every operation's parameters and refusals, short enough for the suite.
MAX_EXAMPLES = 12
STATEFUL_EXAMPLES = 15

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


# Rules between the parts of a request, or with what is stored, that JSON Schema cannot state:
# every inline image is shown by the HTML, every cid: of the HTML names a sent image, inline images
# are images with a usable name; the folders chosen are folders of this mailbox, the day to sync from
# is not in the future. A request the document allows may be refused for them, with a 422 naming
# those fields.
CROSS_FIELD_RULES = {("POST", "/api/v1/outbox/with-attachments"): ("inline", "message.html", "html"),
                     ("PUT", "/api/v1/mailboxes/{id}/folders"): ("sync", "sync_from")}


def _excluded(case: Case) -> list:
    return [positive_data_acceptance] if (case.method.upper(), case.path) in CROSS_FIELD_RULES else []


def _check_cross_field_refusal(case: Case, response: Response) -> None:
    """Where the document cannot state a rule, a refusal of valid-looking data must name its fields."""
    fields = CROSS_FIELD_RULES.get((case.method.upper(), case.path))
    if fields and response.status_code == 422 and case.meta is not None and case.meta.generation.mode.is_positive:
        named = [error["field"] for error in response.json()["errors"]]
        assert named and all(field.startswith(fields) for field in named), response.text


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_its_document(case, token: str):
    response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, excluded_checks=_excluded(case))
    _check_cross_field_refusal(case, response)


class Workflow(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences of calls that feed one answer's ids into the next request (the links schemathesis
    infers from the document: a listed message read, flagged, its thread and raw form; a message
    sent, then fetched and cancelled from the outbox), each answer checked as above."""

    token = ""

    def get_call_kwargs(self, case: Case) -> dict[str, Any]:
        return {"headers": {"Authorization": f"Bearer {self.token}"}}

    def validate_response(self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any) -> None:
        # Every call carries a real token (refused tokens are the authorization matrix's part), so
        # the check that a made-up credential is refused does not apply here.
        case.validate_response(response, excluded_checks=[ignored_auth, *_excluded(case)])
        _check_cross_field_refusal(case, response)


def test_workflows_across_operations_keep_to_the_document(token: str):
    Workflow.token = token
    run_state_machine_as_test(Workflow, settings=settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=6, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))

