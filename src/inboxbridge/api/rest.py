"""The REST API (`/api/v1/`): django-ninja generates the OpenAPI 3 document from the operations'
types (`/api/v1/openapi.json`) and serves Swagger UI from this service's static files (`/api/v1/docs`)."""

from __future__ import annotations

from typing import Any

from csp.decorators import csp_update
from ninja import NinjaAPI

from inboxbridge import __version__
from inboxbridge.api import problems
from inboxbridge.api.endpoints import connect_links, mailboxes, messages, outbox

DESCRIPTION = """The mail inboxbridge syncs, for the application that owns it.

Authenticate with an API token (My Configuration > API Tokens): `Authorization: Bearer <token>`.
A token acts as its user, with that user's access (the same rule as the pages), narrowed by its
scopes: `mail:read`, `mail:send`, `mailboxes:manage`. Anything outside what the user may read
answers 404. Errors are RFC 9457 problem details (`application/problem+json`); a refused field is
named in `errors`. Past the rate limit: 429 with `Retry-After`. A connect link
(`POST /mailboxes/connect-links`) lets a person connect their Office 365 mailbox as one of the
token's user's mailboxes, without an inboxbridge account."""


class InboxbridgeApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        return problems.openapi_problem_media(super().get_openapi_schema(**kwargs))


# Swagger UI's style sheet draws its icons as data: SVG images; the page shows nothing but the
# document, so they are allowed there (its scripts and styles still come only from this service).
api = InboxbridgeApi(title="inboxbridge API", version=__version__, description=DESCRIPTION, urls_namespace="api",
                     openapi_url="/openapi.json", docs_url="/docs",
                     docs_decorator=csp_update({"img-src": ["'self'", "data:"]}))
problems.install(api)
# Before mailboxes: its /mailboxes/{id} would take /mailboxes/connect-links (and answer 405).
api.add_router("", connect_links.router)
api.add_router("", mailboxes.router)
api.add_router("", messages.router)
api.add_router("", outbox.router)
