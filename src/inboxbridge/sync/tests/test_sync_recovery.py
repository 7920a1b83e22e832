"""Recovery: the server changing under us (UIDVALIDITY, renames, moves) and syncs cut short (killed
mid-batch, connection dropped, time budget) always end with exactly the server's mail."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import pytest

from inboxbridge.mail.models import Email, Placement
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailserver.imap import ImapSession
from inboxbridge.mailserver.login import ServerLogin
from inboxbridge.sync import engine, pipeline, store
from inboxbridge.sync.tests.helpers import (
    SyncCase,
    append,
    assert_in_step,
    create_folder,
    make_message,
    select_folders,
)

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


def uidvalidity(client: Any, folder: str) -> int:
    typ, data = client.status(f'"{folder}"', "(UIDVALIDITY)")
    assert typ == "OK"
    return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))


def test_uidvalidity_reset_refetches_without_duplicates(sync_case: SyncCase) -> None:
    client = sync_case.client
    create_folder(client, "Projects")
    kept = make_message("Kept across the reset", message_id="kept@x.test")
    append(client, "Projects", kept)
    append(client, "Projects", make_message("Gone with the reset", message_id="gone@x.test"))
    select_folders(sync_case.mailbox, "INBOX", "Projects")
    engine.sync_mailbox(sync_case.mailbox.pk)
    kept_id = Email.objects.get(message_id="kept@x.test").pk
    Email.objects.filter(pk=kept_id).update(is_flagged=True)  # local state that must survive
    old_validity = uidvalidity(client, "Projects")

    client.delete('"Projects"')
    time.sleep(1.1)  # Dovecot derives UIDVALIDITY from the clock
    create_folder(client, "Projects")
    append(client, "Projects", kept, flags="(\\Flagged)")
    append(client, "Projects", make_message("New after the reset", message_id="new@x.test"))
    assert uidvalidity(client, "Projects") != old_validity

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.complete
    assert Email.objects.get(message_id="kept@x.test").pk == kept_id
    assert not Email.objects.filter(message_id="gone@x.test").exists()
    assert Email.objects.filter(message_id="new@x.test").count() == 1
    assert Folder.objects.get(mailbox=sync_case.mailbox, name="Projects").uidvalidity == uidvalidity(client, "Projects")
    assert_in_step(sync_case.mailbox, client, ["INBOX", "Projects"])


def test_interrupted_reset_finishes_next_time(sync_case: SyncCase, settings: Any) -> None:
    settings.SYNC_BATCH_SIZE = 1
    client = sync_case.client
    create_folder(client, "Box")
    messages = [make_message(f"Reset {n}", message_id=f"reset{n}@x.test") for n in range(3)]
    for raw in messages:
        append(client, "Box", raw)
    select_folders(sync_case.mailbox, "Box")
    engine.sync_mailbox(sync_case.mailbox.pk)
    ids = set(Email.objects.values_list("pk", flat=True))
    client.delete('"Box"')
    time.sleep(1.1)
    create_folder(client, "Box")
    for raw in messages[:2]:
        append(client, "Box", raw)

    def stop_after_one(done: int, total: int) -> None:
        if done >= 1:
            raise RuntimeError("stopped")

    assert engine.sync_mailbox(sync_case.mailbox.pk, progress=stop_after_one).error
    assert engine.sync_mailbox(sync_case.mailbox.pk).complete
    assert set(Email.objects.values_list("pk", flat=True)) < ids  # re-linked, the third one dropped
    assert_in_step(sync_case.mailbox, client, ["Box"])


def test_folder_renamed_on_the_server_keeps_its_mail(sync_case: SyncCase) -> None:
    client = sync_case.client
    create_folder(client, "Old name")
    for n in range(3):
        append(client, "Old name", make_message(f"Renamed {n}"))
    select_folders(sync_case.mailbox, "Old name")
    engine.sync_mailbox(sync_case.mailbox.pk)
    folder = Folder.objects.get(mailbox=sync_case.mailbox, name="Old name")
    emails = set(Email.objects.values_list("pk", flat=True))

    typ, data = client.rename('"Old name"', '"Work/New name"')
    assert typ == "OK", data
    append(client, "Work/New name", make_message("Arrived after the rename"))
    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.fetched == 1 and result.deleted == 0
    folder.refresh_from_db()
    assert (folder.name, folder.selected, folder.exists_on_server) == ("Work/New name", True, True)
    assert emails < set(Email.objects.values_list("pk", flat=True))
    assert not Folder.objects.filter(mailbox=sync_case.mailbox, name="Old name").exists()
    assert_in_step(sync_case.mailbox, client, ["Work/New name"])


def test_message_moved_between_folders_keeps_its_email(sync_case: SyncCase) -> None:
    client = sync_case.client
    uid = append(client, "INBOX", make_message("Moving", message_id="moving@x.test"))
    append(client, "INBOX", make_message("Copied then expunged", message_id="copied@x.test"))
    select_folders(sync_case.mailbox, "INBOX", "Archive")
    engine.sync_mailbox(sync_case.mailbox.pk)
    moving, copied = (Email.objects.get(message_id=m).pk for m in ("moving@x.test", "copied@x.test"))
    Email.objects.filter(pk=moving).update(is_flagged=True)
    client.select("INBOX")
    assert client.uid("MOVE", str(uid), "Archive")[0] == "OK"
    assert client.uid("COPY", str(uid + 1), "Archive")[0] == "OK"
    client.uid("STORE", str(uid + 1), "+FLAGS", "(\\Deleted)")
    client.expunge()
    client.close()

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.deleted == 2
    assert Email.objects.get(message_id="moving@x.test").pk == moving
    assert Email.objects.get(message_id="copied@x.test").pk == copied
    assert set(Placement.objects.filter(email_id=moving).values_list("folder__name", flat=True)) == {"Archive"}
    assert_in_step(sync_case.mailbox, client, ["INBOX", "Archive"])


class Killed(BaseException):
    """Like SIGKILL for the code under test: no except Exception catches it."""


@pytest.mark.parametrize("helpers", [0, 1, 2], ids=["in-process", "helper-process", "two-helper-processes"])
def test_sync_killed_mid_batch_ends_with_exactly_the_server_mail(sync_case: SyncCase, settings: Any,
                                                                 monkeypatch: pytest.MonkeyPatch, helpers: int) -> None:
    settings.SYNC_BATCH_SIZE = 3
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1 if helpers else 10_000
    settings.SYNC_CONNECTIONS = max(helpers, 1)
    monkeypatch.setattr(pipeline, "SHARE_RUN", 2)  # the two helpers take turns every two UIDs
    for n in range(10):
        append(sync_case.client, "INBOX", make_message(f"Batch {n}", message_id=f"batch{n}@x.test",
                                                       attachment=("a.bin", b"same attachment")))
    real = store._create_attachments
    calls = {"n": 0}

    def crash_in_second_batch(*args: Any) -> None:
        calls["n"] += 1
        real(*args)
        if calls["n"] == 2:
            raise Killed  # inside the second batch's transaction: it must roll back entirely

    monkeypatch.setattr(store, "_create_attachments", crash_in_second_batch)
    with pytest.raises(Killed):
        engine.sync_mailbox(sync_case.mailbox.pk)
    assert Email.objects.count() == 3
    inbox = Folder.objects.get(mailbox=sync_case.mailbox, name="INBOX")
    stored = set(Placement.objects.filter(folder=inbox).values_list("uid", flat=True))
    # The folder's position never passes a UID that is not stored; with two helpers the batch
    # can hold UIDs from both, so the position may stay behind what is stored.
    assert set(range(1, inbox.last_uid + 1)) <= stored
    assert inbox.last_uid == 3 if helpers < 2 else inbox.last_uid < 3
    monkeypatch.setattr(store, "_create_attachments", real)

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.fetched == 7
    assert Email.objects.count() == 10
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_progress_callback_stop_keeps_committed_batches(sync_case: SyncCase, settings: Any) -> None:
    settings.SYNC_BATCH_SIZE = 2
    for n in range(5):
        append(sync_case.client, "INBOX", make_message(f"Step {n}"))

    def stop(done: int, total: int) -> None:
        if done >= 2:
            raise RuntimeError("worker shutting down")

    first = engine.sync_mailbox(sync_case.mailbox.pk, progress=stop)
    assert "worker shutting down" in first.error and not first.complete
    assert Email.objects.count() == 2
    assert sync_case.refresh().state == Mailbox.State.ERROR
    second = engine.sync_mailbox(sync_case.mailbox.pk)
    assert second.fetched == 3 and second.complete
    assert sync_case.refresh().state == Mailbox.State.IDLE
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_connection_dropped_mid_fetch_resumes(sync_case: SyncCase, settings: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SYNC_BATCH_SIZE = 2
    # Big enough that the server cannot have pushed the whole folder into our socket buffers.
    for n in range(10):
        append(sync_case.client, "INBOX", make_message(f"Drop {n}", body=("x" * 76 + "\n") * 25000))
    original = ImapSession.fetch_messages

    def dropping(self: ImapSession, uids: Any, **kwargs: Any) -> Any:
        for count, message in enumerate(original(self, uids, **kwargs), start=1):
            yield message
            if count == 3:
                # The network goes away mid-stream (at the TCP level: TLS does not know yet).
                with socket.socket(fileno=os.dup(self.imap.sock.fileno())) as raw:
                    raw.shutdown(socket.SHUT_RDWR)

    monkeypatch.setattr(ImapSession, "fetch_messages", dropping)
    first = engine.sync_mailbox(sync_case.mailbox.pk)
    assert "connection" in first.error.lower() and not first.complete
    assert 2 <= first.fetched == Email.objects.count() < 10  # committed batches stay; the rest did not arrive
    monkeypatch.setattr(ImapSession, "fetch_messages", original)

    second = engine.sync_mailbox(sync_case.mailbox.pk)
    assert second.error == "" and second.fetched == 10 - first.fetched
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_time_budget_spreads_a_big_first_sync_over_runs(sync_case: SyncCase, settings: Any) -> None:
    settings.SYNC_BATCH_SIZE = 2
    for n in range(5):
        append(sync_case.client, "INBOX", make_message(f"Budget {n}"))
    first = engine.sync_mailbox(sync_case.mailbox.pk, time_budget=0)
    assert not first.complete and first.error == "" and first.fetched == 2
    assert sync_case.refresh().backlog == 3
    runs = 1
    while not engine.sync_mailbox(sync_case.mailbox.pk, time_budget=0).complete:
        runs += 1
        assert runs < 10
    assert sync_case.refresh().backlog == 0
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_helper_process_login_refused_is_retried_with_a_fresh_token(
    sync_case: SyncCase, settings: Any, identity: Any, enabled_microsoft: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1
    append(sync_case.client, "INBOX", make_message("Through the helper"))
    real_login = engine.imap_login
    expired = identity.issue_access_token(sync_case.address, enabled_microsoft.client_id, lifetime=-600)
    logins: list[bool] = []

    def login(mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
        good = real_login(mailbox, force_refresh=force_refresh)
        logins.append(force_refresh)
        if len(logins) == 2:  # the helper's first login: already expired on the server
            return ServerLogin(good.host, good.port, good.security, good.username, good.mechanism, expired)
        return good

    monkeypatch.setattr(engine, "imap_login", login)
    result = engine.sync_mailbox(sync_case.mailbox.pk)
    assert result.error == "" and result.fetched == 1
    assert logins == [False, False, True]
