"""The API's one way in: `Authorization: Bearer <token>`, a token that is ours, not revoked, not
expired, of an active user, within its rate limit and holding the operation's scope. The request
then acts as the token's user: every object goes through the same `visible_*` queries as the pages.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from inboxbridge.api import actions, queries, ratelimit, tokens
from inboxbridge.api.models import ApiToken
from inboxbridge.api.problems import ApiProblem

logger = logging.getLogger(__name__)

WHERE = "Create a new one in My Configuration > API Tokens."


def _unauthorized(detail: str, error: str = "invalid_token") -> ApiProblem:
    return ApiProblem(401, detail, headers={"WWW-Authenticate": f'Bearer realm="inboxbridge", error="{error}"'})


class TokenAuth(HttpBearer):
    """Bearer token auth for operations that need `scope`."""

    def __init__(self, scope: str) -> None:
        super().__init__()
        self.scope = scope

    def __call__(self, request: HttpRequest) -> ApiToken | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if not header:
            return None  # ninja answers 401 (problems.install words it)
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthorized("The Authorization header must read `Bearer <token>`.", "invalid_request")
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        now = timezone.now()
        presented = tokens.parse(token)
        row = queries.token_by_key_id(presented.key_id) if presented is not None else None
        if presented is None or row is None or not tokens.matches(presented, row.secret_sha256):
            if row is not None:  # the key id is known: someone holds part of a real token
                actions.record_refusal(row, "wrong secret", path=request.path)
            logger.info("API request with an unknown token refused: %s", request.path)
            raise _unauthorized(f"This is not a valid inboxbridge API token. {WHERE}")
        if row.revoked_at is not None:
            actions.record_refusal(row, "revoked", path=request.path)
            raise _unauthorized(f"This API token ({row.name}) was revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC. "
                                f"{WHERE}")
        if row.expires_at <= now:
            actions.record_refusal(row, "expired", path=request.path)
            raise _unauthorized(f"This API token ({row.name}) expired on {row.expires_at:%Y-%m-%d %H:%M} UTC. {WHERE}")
        if not row.user.is_active:
            actions.record_refusal(row, "user deactivated", path=request.path)
            raise _unauthorized(f"The user of this API token ({row.user.get_username()}) is deactivated.")
        wait = ratelimit.retry_after(row.key_id)
        if wait is not None:
            raise ApiProblem(429, f"More than {ratelimit.settings.API_RATE_LIMIT_PER_MINUTE} requests in a minute "
                             f"with this token: try again in {wait} s.", headers={"Retry-After": str(wait)})
        if self.scope not in row.scopes:
            actions.record_refusal(row, f"lacks scope {self.scope}", path=request.path)
            raise ApiProblem(403, f"This API token lacks the scope {self.scope}, which this operation needs. "
                             f"Its scopes: {', '.join(row.scopes) or 'none'}. {WHERE}",
                             headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{self.scope}"'})
        actions.note_token_used(row, now)
        request.user = row.user
        return row


READ = TokenAuth("mail:read")
SEND = TokenAuth("mail:send")
MANAGE = TokenAuth("mailboxes:manage")
