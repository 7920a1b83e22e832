"""What the API's resources answer: a message as JSON (sanitised HTML, addresses, headers, thread),
its bytes and attachments, search and keyset pages, read and flagged pushed like a click, Sync now,
the outbox, problem details naming the refused field, the rate limit and the token's last use."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from inboxbridge.api.models import ApiToken
from inboxbridge.api.tests.conftest import World, bearer, make_token
from inboxbridge.mail.models import Email
from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.models import OutgoingMessage

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def alice_token(world: World) -> str:
    return make_token(world.alice)


def get(client, path: str, token: str, **query):
    return client.get(API + path, query, **bearer(token))


def send_json(client, method: str, path: str, token: str, body: dict, **headers):
    return getattr(client, method)(API + path, data=json.dumps(body), content_type="application/json",
                                   **bearer(token), **headers)


def test_a_message_as_json_is_sanitised_like_the_page(client, world: World, alice_token: str):
    mail = world.own.email
    answer = get(client, f"/messages/{mail.pk}", alice_token)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    data = answer.json()
    assert data["subject"] == "Alpha quarterly report" and data["sender"]["address"] == "bob@elsewhere.test"
    assert data["to"] == [{"name": "", "address": "alice@example.test"}]
    assert "<b>figures</b>" in data["html"]
    assert "script" not in data["html"] and "tracker.example" not in data["html"]
    assert data["thread_id"] == world.own.reply.thread_id == mail.thread_id
    assert {"name": "Message-ID", "value": "<Alpha-1@elsewhere.test>"} in data["headers"]
    [part] = [p for p in data["attachments"] if p["filename"] == "report.pdf"]
    assert part["available"] and part["content_type"] == "application/pdf"
    assert data["folder_ids"] == [world.own.folder_id]
    # Reading through the API marks nothing read.
    assert not Email.objects.get(pk=mail.pk).is_seen

    attachment = client.get(f"{API}/attachments/{part['id']}", **bearer(alice_token))
    assert attachment.status_code == 200 and b"".join(attachment.streaming_content) == b"%PDF-1.4 Alpha"
    assert attachment["Content-Disposition"].startswith("attachment;")


def test_search_and_keyset_pages_walk_every_match_once(client, world: World, alice_token: str):
    now = timezone.now()
    for n in range(5):
        store(world.own.mailbox, message(f"Invoice {n}", text=f"invoice number {n}"),
              received_at=now - timedelta(hours=n))
    seen, cursor = [], ""
    while True:
        page = get(client, "/messages", alice_token, q="invoice", limit=2, cursor=cursor).json()
        seen += [item["subject"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Invoice {n}" for n in range(5)]
    only_unread = get(client, "/messages", alice_token, mailbox=world.own.mailbox.pk, unread="true").json()
    assert len(only_unread["items"]) == 7
    refused = get(client, "/messages", alice_token, cursor="not-a-cursor")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "cursor"


def test_read_and_flagged_are_pushed_to_the_server_like_a_click(
        client, world: World, alice_token: str, django_capture_on_commit_callbacks):
    mail = world.own.email
    with django_capture_on_commit_callbacks(execute=True):
        answer = send_json(client, "patch", f"/messages/{mail.pk}", alice_token, {"seen": True, "flagged": True})
    assert answer.status_code == 200 and answer.json()["is_seen"] and answer.json()["is_flagged"]
    mail.refresh_from_db()
    assert mail.is_seen and mail.is_flagged and mail.flags_pending
    pushes = DBTaskResult.objects.filter(task_path="inboxbridge.mail.tasks.push_email_flags")
    assert [row.args_kwargs["args"] for row in pushes] == [[mail.pk], [mail.pk]]
    empty = send_json(client, "patch", f"/messages/{mail.pk}", alice_token, {})
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "seen"


def test_sync_now_enqueues_a_sync_or_says_why_not(
        client, world: World, alice_token: str, django_capture_on_commit_callbacks):
    mailbox = world.own.mailbox
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"{API}/mailboxes/{mailbox.pk}/sync", **bearer(alice_token))
    assert answer.status_code == 202
    assert DBTaskResult.objects.filter(task_path="inboxbridge.jobs.tasks.sync_mailbox",
                                       args_kwargs__args=[mailbox.pk]).count() == 1
    Mailbox.objects.filter(pk=mailbox.pk).update(needs_reconnect=True)
    refused = client.post(f"{API}/mailboxes/{mailbox.pk}/sync", **bearer(alice_token))
    assert refused.status_code == 409 and "cannot be synchronised now" in refused.json()["detail"]
    state = get(client, f"/mailboxes/{mailbox.pk}", alice_token).json()["sync"]
    assert state["state"] == "disabled" and state["reason"]


def test_every_refused_field_is_named(client, world: World, alice_token: str):
    answer = send_json(client, "post", "/outbox", alice_token, {
        "from_mailbox": world.own.mailbox.pk, "to": [{"address": "dana@example.test"}, {"address": "not an address"}]})
    assert answer.status_code == 422 and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"] == [{"field": "to.1.address", "location": "body",
                                        "message": "“not an address” is not an email address that can be sent to."}]
    missing = send_json(client, "post", "/outbox", alice_token, {"to": [{"address": "dana@example.test"}]})
    assert [e["field"] for e in missing.json()["errors"]] == ["from_mailbox"]
    nobody = send_json(client, "post", "/outbox", alice_token, {"from_mailbox": world.own.mailbox.pk})
    assert nobody.json()["errors"][0]["field"] == "to"
    two_lines = send_json(client, "post", "/outbox", alice_token, {
        "from_mailbox": world.own.mailbox.pk, "to": [{"address": "dana@example.test"}], "subject": "a\r\nBcc: x"})
    assert two_lines.json()["errors"][0]["field"] == "subject"
    limit = get(client, "/messages", alice_token, limit=0)
    assert limit.status_code == 422 and limit.json()["errors"][0] == {
        "field": "limit", "location": "query", "message": "Input should be greater than or equal to 1"}
    not_json = client.post(f"{API}/outbox", data="{", content_type="application/json", **bearer(alice_token))
    assert not_json.status_code == 400 and not_json["Content-Type"] == "application/problem+json"
    assert OutgoingMessage.objects.filter(author=world.alice).count() == 1  # only the fixture's


def test_a_send_with_an_idempotency_key_is_queued_once(client, world: World, alice_token: str):
    body = {"from_mailbox": world.own.mailbox.pk, "to": [{"name": "Dana", "address": "dana@example.test"}],
            "subject": "Once", "text": "Only once."}
    first = send_json(client, "post", "/outbox", alice_token, body, HTTP_IDEMPOTENCY_KEY="order-42")
    again = send_json(client, "post", "/outbox", alice_token, body, HTTP_IDEMPOTENCY_KEY="order-42")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert OutgoingMessage.objects.filter(subject="Once").count() == 1
    other = send_json(client, "post", "/outbox", alice_token, {**body, "subject": "Other"},
                      HTTP_IDEMPOTENCY_KEY="order-42")
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    # Keys are per user: Carol's order-42 is her own.
    carol = send_json(client, "post", "/outbox", make_token(world.carol),
                      {**body, "from_mailbox": world.system.mailbox.pk}, HTTP_IDEMPOTENCY_KEY="order-42")
    assert carol.status_code == 202 and carol.json()["id"] != first.json()["id"]


def test_cancel_then_cancel_again(client, world: World, alice_token: str):
    outgoing = world.own.outgoing
    first = client.post(f"{API}/outbox/{outgoing.pk}/cancel", **bearer(alice_token))
    assert first.status_code == 200 and first.json()["state"] == "cancelled" and not first.json()["can_cancel"]
    again = client.post(f"{API}/outbox/{outgoing.pk}/cancel", **bearer(alice_token))
    assert again.status_code == 409 and "it is cancelled" in again.json()["detail"]


def test_past_the_rate_limit_a_token_waits(client, world: World, alice_token: str, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    statuses = [get(client, "/mailboxes", alice_token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = get(client, "/mailboxes", alice_token)
    assert 1 <= int(refused["Retry-After"]) <= 60 and "try again in" in refused.json()["detail"]
    # Another token of the same user has its own count.
    assert get(client, "/mailboxes", make_token(world.alice)).status_code == 200


def test_last_use_is_noted_at_most_once_a_minute(client, world: World, alice_token: str):
    token = ApiToken.objects.get(user=world.alice)
    assert token.last_used_at is None
    get(client, "/mailboxes", alice_token)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    get(client, "/mailboxes", alice_token)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    get(client, "/mailboxes", alice_token)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_a_message_with_attachments_is_sent_as_multipart(client, world: World, alice_token: str, settings):
    message_json = json.dumps({"from_mailbox": world.own.mailbox.pk, "to": [{"address": "dana@example.test"}],
                               "subject": "Contract", "text": "Attached."})
    answer = client.post(f"{API}/outbox/with-attachments", {
        "message": message_json,
        "attachments": [SimpleUploadedFile("contract.pdf", b"%PDF-1.7 contract", content_type="application/pdf"),
                        SimpleUploadedFile("notes.txt", b"notes", content_type="text/plain; charset=utf-8")],
    }, **bearer(alice_token))
    assert answer.status_code == 202, answer.content
    queued = OutgoingMessage.objects.get(pk=answer.json()["id"])
    parsed = email.message_from_bytes(bytes(queued.mime), policy=email.policy.default)
    files = {part.get_filename(): (part.get_content_type(), part.get_content()) for part in parsed.iter_attachments()}
    assert files == {"contract.pdf": ("application/pdf", b"%PDF-1.7 contract"), "notes.txt": ("text/plain", "notes")}

    refused = client.post(f"{API}/outbox/with-attachments", {"message": json.dumps({"to": []})}, **bearer(alice_token))
    assert refused.status_code == 422 and [e["field"] for e in refused.json()["errors"]] == ["message.from_mailbox"]
    settings.SEND_MAX_BYTES = 10
    too_big = client.post(f"{API}/outbox/with-attachments", {
        "message": message_json, "attachments": [SimpleUploadedFile("big.bin", b"x" * 11)]}, **bearer(alice_token))
    assert too_big.status_code == 413 and "at most 10" in too_big.json()["detail"]
