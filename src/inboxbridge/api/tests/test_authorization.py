"""The authorization matrix: every operation of the API with no token, a malformed, expired or
revoked token, a token without the operation's scope, a deactivated user's token, another user's
token, the token of a user authorized for the system mailbox, and an administrator's token.

Objects outside the mailboxes a user may read answer 404, exactly as a missing id does."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.api.models import ApiToken
from inboxbridge.api.tests.conftest import ALL_SCOPES, Objects, World, bearer, make_token
from inboxbridge.configuration.models import StoredSetting
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import EMAIL_SYNC_ENABLED

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("originals_from_the_store")]

API = "/api/v1"


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: Callable[[Objects], str]
    scope: str
    ok: int = 200
    body: Callable[[Objects], dict[str, Any]] | None = None
    # Who besides the readers of the object is refused, and how (Sync now: only owners and administrators).
    member_status: int | None = None
    multipart: bool = False  # the body goes as multipart/form-data, its JSON in the part `message`
    # Who may use it on the own and the system mailbox, when not its readers (see expected()).
    users: dict[str, set[str]] | None = None
    arrange: Callable[[World], None] | None = None  # what the operation needs besides the world


def _office365_enabled_and_alices_mailbox_office365(world: World) -> None:
    StoredSetting.objects.update_or_create(key=EMAIL_SYNC_ENABLED.key, defaults={"value": "1"})
    Mailbox.objects.filter(pk=world.own.mailbox.pk).update(account_type=Mailbox.AccountType.OFFICE365)


OPERATIONS = [
    Operation("mailbox", "get", lambda o: f"/mailboxes/{o.mailbox.pk}", "mail:read"),
    Operation("sync now", "post", lambda o: f"/mailboxes/{o.mailbox.pk}/sync", "mailboxes:manage", ok=202,
              member_status=403),
    Operation("folders", "get", lambda o: f"/mailboxes/{o.mailbox.pk}/folders", "mail:read"),
    Operation("choose folders", "put", lambda o: f"/mailboxes/{o.mailbox.pk}/folders", "mailboxes:manage",
              body=lambda o: {"sync": [o.folder_id]}, member_status=403),
    Operation("messages of a mailbox", "get", lambda o: f"/messages?mailbox={o.mailbox.pk}", "mail:read"),
    Operation("messages of a folder", "get", lambda o: f"/messages?folder={o.folder_id}", "mail:read"),
    Operation("message", "get", lambda o: f"/messages/{o.email.pk}", "mail:read"),
    Operation("raw message", "get", lambda o: f"/messages/{o.email.pk}/raw", "mail:read"),
    Operation("set flags", "patch", lambda o: f"/messages/{o.email.pk}", "mail:read", body=lambda o: {"seen": True}),
    Operation("attachment", "get", lambda o: f"/attachments/{o.attachment_id}", "mail:read"),
    Operation("thread", "get", lambda o: f"/threads/{o.email.thread_id}", "mail:read"),
    Operation("outbox message", "get", lambda o: f"/outbox/{o.outgoing.pk}", "mail:send"),
    Operation("cancel", "post", lambda o: f"/outbox/{o.outgoing.pk}/cancel", "mail:send"),
    Operation("send", "post", lambda o: "/outbox", "mail:send", ok=202,
              body=lambda o: {"from_mailbox": o.mailbox.pk, "to": [{"address": "dana@example.test"}]}),
    Operation("send with attachments", "post", lambda o: "/outbox/with-attachments", "mail:send", ok=202,
              body=lambda o: {"from_mailbox": o.mailbox.pk, "to": [{"address": "dana@example.test"}]}, multipart=True),
    # A connect link reconnects only one of the user's own Office 365 mailboxes: never a system mailbox.
    Operation("connect link", "post", lambda o: "/mailboxes/connect-links", "mailboxes:manage", ok=201,
              body=lambda o: {"mailbox": o.mailbox.pk}, users={"own": {"alice"}, "system": set()},
              arrange=_office365_enabled_and_alices_mailbox_office365),
]
LISTS = [
    Operation("mailboxes", "get", lambda o: "/mailboxes", "mail:read"),
    Operation("all messages", "get", lambda o: "/messages", "mail:read"),
    Operation("outbox", "get", lambda o: "/outbox", "mail:send"),
]
EVERY = [*OPERATIONS, *LISTS]


def call(client: Any, op: Operation, objects: Objects, token: str | None) -> Any:
    body = op.body(objects) if op.body else None
    kwargs: dict[str, Any] = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
    if op.multipart:
        kwargs = {"data": {"message": json.dumps(body), "attachments": [SimpleUploadedFile("a.txt", b"a")]}}
    return getattr(client, op.method)(API + op.path(objects), **kwargs, **bearer(token))


def expected(op: Operation, subject: str, target: str) -> int:
    """Who reads what: Alice her own mailbox; Carol (authorized) and the administrator the system
    mailbox; outbox messages only their author (Carol wrote the system mailbox's)."""
    readers = (op.users or {"own": {"alice"}, "system": {"carol", "admin"}})[target]
    if op.path(_Probe()).startswith("/outbox/1"):  # an outbox message: only its author
        readers = {"own": {"alice"}, "system": {"carol"}}[target]
    if subject not in readers:
        return 404
    if op.member_status is not None and subject == "carol":
        return op.member_status
    return op.ok


class _Probe:
    """Stands in for Objects to read an operation's path shape."""

    def __getattr__(self, name: str) -> Any:
        return _Probe()

    def __format__(self, spec: str) -> str:
        return "1"


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
@pytest.mark.parametrize("subject", ["alice", "bob", "carol", "admin"])
@pytest.mark.parametrize("target", ["own", "system"])
def test_who_may_use_which_object(client, world: World, op: Operation, subject: str, target: str):
    token = make_token(world.user(subject))
    if op.arrange:
        op.arrange(world)
    answer = call(client, op, getattr(world, target), token)
    assert answer.status_code == expected(op, subject, target), answer.content[:300]
    if answer.status_code == 404:
        problem = answer.json()
        assert answer["Content-Type"] == "application/problem+json"
        assert problem["status"] == 404 and "may read" in problem["detail"]


def _expired(world: World) -> str:
    token = make_token(world.alice)
    ApiToken.objects.filter(user=world.alice).update(expires_at=timezone.now() - timedelta(minutes=1))
    return token


def _revoked(world: World) -> str:
    token = make_token(world.alice)
    ApiToken.objects.filter(user=world.alice).update(revoked_at=timezone.now())
    return token


def _deactivated(world: World) -> str:
    token = make_token(world.alice)
    world.alice.is_active = False
    world.alice.save()
    return token


def _wrong_secret(world: World) -> str:
    token = make_token(world.alice)
    return token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")


REFUSED_TOKENS: dict[str, tuple[Callable[[World], str | None], str]] = {
    "no token": (lambda w: None, "Authorization: Bearer"),
    "not a token": (lambda w: "hunter2", "not a valid inboxbridge API token"),
    "wrong secret": (_wrong_secret, "not a valid inboxbridge API token"),
    "expired": (_expired, "expired on"),
    "revoked": (_revoked, "was revoked on"),
    "deactivated user": (_deactivated, "is deactivated"),
}


@pytest.mark.parametrize("op", EVERY, ids=lambda op: op.name)
@pytest.mark.parametrize("case", list(REFUSED_TOKENS))
def test_refused_tokens(client, world: World, op: Operation, case: str):
    make, words = REFUSED_TOKENS[case]
    token = make(world)
    answer = call(client, op, world.own, token)
    assert answer.status_code == 401
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert words in answer.json()["detail"]
    if token and token.startswith("ibx_"):
        assert token not in answer.content.decode()
        assert token[17:] not in json.dumps(list(AuditEvent.objects.values("detail", "target")))


@pytest.mark.parametrize("op", EVERY, ids=lambda op: op.name)
def test_a_token_without_the_scope_is_refused_and_audited(client, world: World, op: Operation):
    token = make_token(world.alice, [s for s in ALL_SCOPES if s != op.scope])
    answer = call(client, op, world.own, token)
    assert answer.status_code == 403
    assert op.scope in answer.json()["detail"] and answer["WWW-Authenticate"].endswith(f'scope="{op.scope}"')
    refusal = AuditEvent.objects.get(action="api_token.refused")
    assert refusal.actor == world.alice and refusal.detail["reason"] == f"lacks scope {op.scope}"


@pytest.mark.parametrize("subject", ["alice", "bob", "carol", "admin"])
def test_lists_hold_only_what_the_user_may_read(client, world: World, subject: str):
    token = make_token(world.user(subject))
    visible = {"alice": [world.own], "bob": [], "carol": [world.system], "admin": [world.system]}[subject]
    mailboxes = {m["id"] for m in client.get(f"{API}/mailboxes", **bearer(token)).json()}
    assert {o.mailbox.pk for o in visible} <= mailboxes
    assert world.own.mailbox.pk in mailboxes if subject == "alice" else world.own.mailbox.pk not in mailboxes
    assert (world.system.mailbox.pk in mailboxes) == (subject in ("carol", "admin"))
    messages = {m["id"] for m in client.get(f"{API}/messages", **bearer(token)).json()["items"]}
    assert messages == {e.pk for o in visible for e in (o.email, o.reply)}
    outbox = {m["id"] for m in client.get(f"{API}/outbox", **bearer(token)).json()["items"]}
    assert outbox == {o.outgoing.pk for o in visible if o.outgoing.author_id == world.user(subject).pk}
