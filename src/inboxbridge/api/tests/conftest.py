"""A small world for the API tests: Alice with her own mailbox, a system mailbox Carol is an
Authorized User of, Bob who may see neither, an administrator; mail, threads, attachments and outbox
messages in both mailboxes, stored as the sync stores them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.api import actions
from inboxbridge.api.models import ApiToken
from inboxbridge.mail.models import Email
from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import actions as sending_actions
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.originals import rebuilt_message

ALL_SCOPES = [scope.value for scope in ApiToken.Scope]


def make_token(user: User, scopes: list[str] | None = None, *, days: int = 30, by: User | None = None) -> str:
    created = actions.create_token(user=user, created_by=by or user, name=f"{user.username} app",
                                   scopes=ALL_SCOPES if scopes is None else scopes,
                                   expires_at=timezone.now() + timedelta(days=days))
    return created.secret


def bearer(token: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}


@dataclass
class Objects:
    """One of each kind of object the API serves, all in one mailbox."""

    mailbox: Mailbox
    email: Email
    reply: Email
    outgoing: OutgoingMessage

    @property
    def attachment_id(self) -> int:
        return self.email.attachments.get(filename="report.pdf").pk

    @property
    def folder_id(self) -> int:
        return self.mailbox.folders.get(name="INBOX").pk


@dataclass
class World:
    alice: User
    bob: User
    carol: User
    admin: User
    own: Objects  # Alice's mailbox
    system: Objects  # the system mailbox Carol is authorized for

    def user(self, name: str) -> User:
        return getattr(self, name)


def fill(mailbox: Mailbox, author: User, word: str) -> Objects:
    first = store(mailbox, message(f"{word} quarterly report", html=f"<p>{word} <b>figures</b></p>"
                                   "<script>alert(1)</script><img src='https://tracker.example/p.gif'>",
                                   message_id=f"{word}-1@elsewhere.test",
                                   attachments=[("report.pdf", "application/pdf", b"%PDF-1.4 " + word.encode())]))
    reply = store(mailbox, message(f"Re: {word} quarterly report", text=f"Thanks for the {word} numbers.",
                                   in_reply_to=f"{word}-1@elsewhere.test", references=f"<{word}-1@elsewhere.test>"))
    outgoing = sending_actions.queue_message(author, sending_actions.Draft(
        mailbox, [("Dana", "dana@example.test")], [], [], f"{word} plan", "The plan.\n"))
    return Objects(mailbox, Email.objects.get(pk=first.pk), reply, outgoing)


@pytest.fixture
def originals_from_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """The world's mailboxes are on made-up servers: the raw message is put together from what was
    stored instead of fetched, for the tests about who may call what (test_raw_message.py fetches
    the real bytes from Dovecot)."""
    monkeypatch.setattr("inboxbridge.api.endpoints.messages.original_bytes", rebuilt_message)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


@pytest.fixture
def world(django_user_model: Any) -> World:
    alice = django_user_model.objects.create_user("alice", "alice@example.test", "alice-password-1")
    bob = django_user_model.objects.create_user("bob", "bob@example.test", "bob-password-1")
    carol = django_user_model.objects.create_user("carol", "carol@example.test", "carol-password-1")
    admin = django_user_model.objects.create_user("admin", "admin@example.test", "admin-password-1", is_staff=True)
    make_mailbox(bob)
    system = make_mailbox(None, label="Support")
    system.authorized_users.add(carol)
    return World(alice, bob, carol, admin, fill(make_mailbox(alice), alice, "Alpha"),
                 fill(system, carol, "Sierra"))
