"""PUT /mailboxes/{id}/folders: an application chooses which folders synchronise, as the folder
checkboxes of the mailbox's page do (a mailbox connected through a connect link has no other way);
every refusal names its field, and a mailbox whose folders are not listed yet says so."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.api.tests.conftest import World, bearer, make_token
from inboxbridge.mailboxes.models import Folder

pytestmark = pytest.mark.django_db

API = "/api/v1"


def put(client: Any, mailbox_id: int, token: str, body: dict[str, Any]) -> Any:
    return client.put(f"{API}/mailboxes/{mailbox_id}/folders", data=json.dumps(body),
                      content_type="application/json", **bearer(token))


def test_the_chosen_folders_sync_from_the_day_given_and_the_others_stop(client, world: World):
    mailbox = world.own.mailbox
    inbox, sent = mailbox.folders.get(name="INBOX"), mailbox.folders.get(special_use="\\Sent")
    Folder.objects.filter(pk=inbox.pk).update(last_uid=0, selected=False)
    day = timezone.localdate() - timedelta(days=30)

    answer = put(client, mailbox.pk, make_token(world.alice), {"sync": [inbox.pk], "sync_from": day.isoformat()})

    assert answer.status_code == 200, answer.content
    listed = {folder["id"]: folder["selected"] for folder in answer.json()}
    assert listed[inbox.pk] is True and listed[sent.pk] is False
    inbox.refresh_from_db()
    mailbox.refresh_from_db()
    assert inbox.selected and inbox.sync_since == day and mailbox.sync_from == day
    assert mailbox.next_sync_at is not None and mailbox.next_sync_at <= timezone.now()  # a sync follows


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"sync": [10**9]}, "sync.0", "No folder of this mailbox has the id 1000000000"),
    ({"sync": [], "sync_from": (timezone.localdate() + timedelta(days=2)).isoformat()}, "sync_from",
     "in the future"),
    ({"sync": [], "folders": []}, "folders", ""),
])
def test_each_refusal_names_its_field_and_changes_nothing(client, world: World, body, field, words):
    mailbox = world.own.mailbox
    before = list(mailbox.folders.order_by("pk").values_list("selected", flat=True))

    answer = put(client, mailbox.pk, make_token(world.alice), body)

    assert answer.status_code == 422
    assert [error["field"] for error in answer.json()["errors"]] == [field] and words in answer.json()["detail"]
    assert list(mailbox.folders.order_by("pk").values_list("selected", flat=True)) == before


def test_a_mailbox_whose_folders_are_not_listed_yet_answers_409(client, world: World):
    fresh = make_mailbox(world.alice, folders=(), email_address="new@example.test")
    answer = put(client, fresh.pk, make_token(world.alice), {"sync": []})
    assert answer.status_code == 409 and "first sync lists them" in answer.json()["detail"]


def test_an_authorized_user_reads_a_system_mailbox_s_folders_but_only_an_administrator_chooses(client, world: World):
    system = world.system.mailbox
    refused = put(client, system.pk, make_token(world.carol), {"sync": [world.system.folder_id]})
    assert refused.status_code == 403 and "Only an administrator" in refused.json()["detail"]
    assert put(client, system.pk, make_token(world.admin), {"sync": [world.system.folder_id]}).status_code == 200
