"""Errors of the API as RFC 9457 problem details (`application/problem+json`): a `type`, the
HTTP `title`, the `status`, a `detail` a person can act on, and for a refused request body or
query the `errors`, each naming its field. Secrets never appear in one: no header value, no token.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

MEDIA_TYPE = "application/problem+json"
VALIDATION = "urn:inboxbridge:problem:validation"
# Where a refused value was: the parts of a request ninja parses.
T = TypeVar("T", bound=Model)
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class FieldError(Schema):
    field: str
    location: str
    message: str


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """A refusal that becomes a problem response (raised from endpoints and the token check)."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None,
                 type_: str = "about:blank", errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.type, self.errors = status, detail, headers or {}, type_, errors


def one_or_404(rows: QuerySet[T], pk: int, what: str) -> T:
    """The row `pk` of `rows` (a `visible_*` queryset), or 404 naming `what`."""
    found = rows.filter(pk=pk).first()
    if found is None:
        raise not_found(what)
    return found


def not_found(what: str) -> ApiProblem:
    """Also for what exists but the token's user may not see: the answer never tells them apart."""
    return ApiProblem(404, f"No {what} with this id among the mail this token's user may read.")


def invalid(field: str, message: str, *, location: str = "body") -> ApiProblem:
    return ApiProblem(422, f"{field}: {message}", type_=VALIDATION,
                      errors=[{"field": field, "location": location, "message": message}])


def response(status: int, detail: str, *, type_: str = "about:blank", headers: dict[str, str] | None = None,
             errors: list[dict[str, str]] | None = None) -> HttpResponse:
    body: dict[str, Any] = {"type": type_, "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    answer = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        answer[name] = value
    return answer


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as {field, location, message}; the field as a path: `to.1.address`."""
    found = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc and loc[0] in _SOURCES else "body"
        path = loc[1:] if loc and loc[0] in _SOURCES else loc
        if location == "body" and len(path) > 1 and path[0] == "payload":
            path = path[1:]  # the endpoint's own name for the whole body
        found.append({"field": ".".join(path) or location, "location": location, "message": str(error.get("msg", ""))})
    return found


def install(api: NinjaAPI) -> None:
    """Make every error of `api` a problem response."""

    @api.exception_handler(ApiProblem)
    def _problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return response(exc.status, exc.detail, type_=exc.type, headers=exc.headers, errors=exc.errors)

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = field_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "The request is not valid."
        return response(422, detail, type_=VALIDATION, errors=errors)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return response(401, "Send an API token in the Authorization header: `Authorization: Bearer <token>`. "
                        "Create one in My Configuration > API Tokens.",
                        headers={"WWW-Authenticate": 'Bearer realm="inboxbridge"'})

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return response(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return response(404, "Nothing here: see the API reference at /api/v1/docs.")


def openapi_problem_media(schema: dict[str, Any]) -> dict[str, Any]:
    """Say in the OpenAPI document that error responses are application/problem+json."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if str(status)[:1] in "45" and "application/json" in content:
                    content[MEDIA_TYPE] = content.pop("application/json")
    return schema
