"""Office 365 mailboxes connected through the real OAuth flow, synced over IMAP XOAUTH2 from the
local Dovecot: contents, incremental runs, tokens expiring and revoked, flags both ways."""

from __future__ import annotations

from typing import Any

import pytest

from inboxbridge.mail import flag_push
from inboxbridge.mail.models import Email, Placement, Thread
from inboxbridge.mailboxes.messages import RECONNECT_MESSAGE
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailserver.imap import ImapSession, check_login, list_folders
from inboxbridge.mailserver.imap_parse import encode_mutf7
from inboxbridge.mailserver.login import ServerLogin
from inboxbridge.sync import engine, pipeline
from inboxbridge.sync.tests.helpers import (
    SyncCase,
    append,
    assert_in_step,
    create_folder,
    make_message,
    select_folders,
)

pytestmark = [pytest.mark.mailserver, pytest.mark.django_db]


def test_first_sync_stores_every_folder_with_flags_and_threads(sync_case: SyncCase, mail_stack: Any) -> None:
    client = sync_case.client
    create_folder(client, "Projects")
    create_folder(client, "Projects/2026")
    append(client, "INBOX", make_message("Plain hello", message_id="root@x.test"))
    append(client, "INBOX", make_message("Re: Plain hello", message_id="reply@x.test",
                                         headers={"In-Reply-To": "<root@x.test>", "References": "<root@x.test>"}),
           flags="(\\Seen)")
    append(client, "Projects", make_message("Flagged one"), flags="(\\Flagged \\Seen)")
    append(client, "Projects/2026", make_message("Zürich Grüße", body="Grüße aus Zürich\n"))
    append(client, "Sent", make_message("Sent copy"))
    mail_stack.deliver(make_message("Delivered by Postfix"), to=sync_case.address)
    select_folders(sync_case.mailbox, "INBOX", "Projects", "Projects/2026")

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.error == "" and result.complete
    assert result.fetched == 5
    assert_in_step(sync_case.mailbox, client, ["INBOX", "Projects", "Projects/2026"])
    mailbox = sync_case.refresh()
    assert mailbox.state == Mailbox.State.IDLE and mailbox.last_success_at and mailbox.message_count == 5
    # The unselected Sent folder is listed (with its special use) but not synced.
    sent = Folder.objects.get(mailbox=mailbox, name="Sent")
    assert sent.special_use == "\\Sent" and not sent.placements.exists()
    assert Folder.objects.get(mailbox=mailbox, name="INBOX").special_use == "\\Inbox"
    root, reply = Email.objects.get(message_id="root@x.test"), Email.objects.get(message_id="reply@x.test")
    assert root.thread_id == reply.thread_id and Thread.objects.filter(mailbox=mailbox).count() == 4
    assert reply.is_seen and not root.is_seen
    assert Email.objects.get(subject="Zürich Grüße").body_text.strip() == "Grüße aus Zürich"


def test_new_mail_alone_is_fetched_and_unchanged_folders_are_skipped(sync_case: SyncCase, mail_stack: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        append(sync_case.client, "INBOX", make_message(f"Old {n}"))
    assert engine.sync_mailbox(sync_case.mailbox.pk).fetched == 3

    fetched_uids: list[int] = []
    original = ImapSession.fetch_messages

    def counting(self: ImapSession, uids: Any, **kwargs: Any) -> Any:
        fetched_uids.extend(uids)
        return original(self, uids, **kwargs)

    monkeypatch.setattr(ImapSession, "fetch_messages", counting)
    mail_stack.deliver(make_message("Brand new"), to=sync_case.address)
    result = engine.sync_mailbox(sync_case.mailbox.pk)
    assert (result.fetched, result.folders_skipped, result.error) == (1, 0, "")
    assert fetched_uids == [4]
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])

    fetched_uids.clear()
    again = engine.sync_mailbox(sync_case.mailbox.pk)
    assert (again.fetched, again.updated, again.deleted, again.folders_skipped) == (0, 0, 0, 1)
    assert fetched_uids == []


def test_access_token_expiring_is_refreshed(connect_office365_mailbox: Any, identity: Any, mail_stack: Any) -> None:
    identity.access_token_lifetime = 30  # MSAL treats tokens with < 5 minutes left as expired
    mailbox = connect_office365_mailbox()
    select_folders(mailbox, "INBOX")
    client = mail_stack.imap(mailbox.email_address)
    append(client, "INBOX", make_message("One"))
    before = identity.count("token", "refresh_token")
    assert engine.sync_mailbox(mailbox.pk).error == ""
    append(client, "INBOX", make_message("Two"))
    result = engine.sync_mailbox(mailbox.pk)
    assert result.error == "" and result.fetched == 1
    assert identity.count("token", "refresh_token") >= before + 2
    assert_in_step(mailbox, client, ["INBOX"])
    client.logout()


def test_token_refused_by_the_server_is_refreshed_and_the_login_retried(
    sync_case: SyncCase, identity: Any, enabled_microsoft: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cache still holds a token the server already considers expired (clock skew, revoked
    session): the first XOAUTH2 fails, the engine forces a refresh and logs in again."""
    append(sync_case.client, "INBOX", make_message("After refresh"))
    real_login = engine.imap_login
    expired = identity.issue_access_token(sync_case.address, enabled_microsoft.client_id, lifetime=-600)
    calls: list[bool] = []

    def login(mailbox: Mailbox, *, force_refresh: bool = False) -> ServerLogin:
        calls.append(force_refresh)
        good = real_login(mailbox, force_refresh=force_refresh)
        if force_refresh:
            return good
        return ServerLogin(good.host, good.port, good.security, good.username, good.mechanism, expired)

    monkeypatch.setattr(engine, "imap_login", login)
    before = identity.count("token", "refresh_token")
    result = engine.sync_mailbox(sync_case.mailbox.pk)
    assert result.error == "" and result.fetched == 1
    assert calls == [False, True]
    assert identity.count("token", "refresh_token") == before + 1


def test_revoked_refresh_token_asks_for_reconnect(connect_office365_mailbox: Any, identity: Any,
                                                  mail_stack: Any) -> None:
    identity.access_token_lifetime = 60  # the cached token is already "expired" for MSAL
    mailbox = connect_office365_mailbox()
    select_folders(mailbox, "INBOX")
    identity.revoke_refresh_tokens(mailbox.email_address)

    result = engine.sync_mailbox(mailbox.pk)

    assert not result.complete and result.error.startswith(RECONNECT_MESSAGE)
    mailbox.refresh_from_db()
    assert mailbox.needs_reconnect and mailbox.state == Mailbox.State.DISABLED
    assert mailbox.last_error.startswith(RECONNECT_MESSAGE)
    # Later runs do not even try.
    assert engine.sync_mailbox(mailbox.pk).error == RECONNECT_MESSAGE


def test_read_in_the_app_is_pushed_to_the_server(sync_case: SyncCase) -> None:
    append(sync_case.client, "INBOX", make_message("Read me"))
    engine.sync_mailbox(sync_case.mailbox.pk)
    item = Email.objects.get(subject="Read me")
    Email.objects.filter(pk=item.pk).update(is_seen=True, is_flagged=True, flags_pending=True)

    flag_push.push_flags(item.pk)

    item.refresh_from_db()
    assert not item.flags_pending
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])
    Email.objects.filter(pk=item.pk).update(is_flagged=False, flags_pending=True)
    flag_push.push_flags(item.pk)
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_pending_flags_are_pushed_by_the_next_sync_and_not_overwritten(sync_case: SyncCase) -> None:
    append(sync_case.client, "INBOX", make_message("Pending"))
    engine.sync_mailbox(sync_case.mailbox.pk)
    Email.objects.filter(subject="Pending").update(is_seen=True, flags_pending=True)
    result = engine.sync_mailbox(sync_case.mailbox.pk)
    assert result.error == ""
    assert Email.objects.filter(subject="Pending", is_seen=True, flags_pending=False).exists()
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_seen_on_the_server_shows_up_locally(sync_case: SyncCase) -> None:
    uid = append(sync_case.client, "INBOX", make_message("Read elsewhere"))
    append(sync_case.client, "INBOX", make_message("Still unread"))
    engine.sync_mailbox(sync_case.mailbox.pk)

    def inbox_unread() -> int:
        return Folder.objects.get(mailbox=sync_case.mailbox, name="INBOX").unread_count

    assert inbox_unread() == 2
    sync_case.client.select("INBOX")
    sync_case.client.uid("STORE", str(uid), "+FLAGS", "(\\Seen \\Flagged)")
    sync_case.client.close()

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert (result.updated, result.fetched) == (1, 0)
    assert Email.objects.get(subject="Read elsewhere").is_seen
    assert inbox_unread() == 1
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])
    sync_case.client.select("INBOX")
    sync_case.client.uid("STORE", str(uid), "-FLAGS", "(\\Seen)")
    sync_case.client.close()
    assert engine.sync_mailbox(sync_case.mailbox.pk).updated == 1
    assert inbox_unread() == 2
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_deleted_on_the_server_is_deleted_locally(sync_case: SyncCase) -> None:
    uids = [append(sync_case.client, "INBOX", make_message(f"Doomed {n}")) for n in range(3)]
    engine.sync_mailbox(sync_case.mailbox.pk)
    sync_case.client.select("INBOX")
    sync_case.client.uid("STORE", str(uids[1]), "+FLAGS", "(\\Deleted)")
    sync_case.client.expunge()
    sync_case.client.close()

    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert result.deleted == 1
    assert not Email.objects.filter(subject="Doomed 1").exists()
    assert Folder.objects.get(mailbox=sync_case.mailbox, name="INBOX").unread_count == 2
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])


def test_big_run_goes_through_the_helper_process(sync_case: SyncCase, settings: Any) -> None:
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1
    settings.SYNC_BATCH_SIZE = 3
    for n in range(8):
        append(sync_case.client, "INBOX", make_message(f"Bulk {n}", attachment=(f"f{n}.bin", bytes([n]) * 5000)))
    seen: list[tuple[int, int]] = []
    result = engine.sync_mailbox(sync_case.mailbox.pk, progress=lambda done, total: seen.append((done, total)))
    assert result.error == "" and result.fetched == 8
    assert seen[0] == (0, 8) and seen[-1] == (8, 8)
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX"])
    assert Email.objects.filter(mailbox=sync_case.mailbox, has_attachments=True).count() == 8


def test_big_run_shared_by_two_helper_processes(sync_case: SyncCase, settings: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1
    settings.SYNC_CONNECTIONS = 2
    settings.SYNC_BATCH_SIZE = 4
    monkeypatch.setattr(pipeline, "SHARE_RUN", 3)
    select_folders(sync_case.mailbox, "INBOX", "Archive")
    for n in range(8):
        append(sync_case.client, "INBOX", make_message(f"Shared {n}", attachment=(f"s{n}.bin", bytes([n]) * 3000)))
    for n in range(5):
        append(sync_case.client, "Archive", make_message(f"Archived {n}"), flags="(\\Seen)")
    helpers: list[int] = []
    real_init = pipeline.Producer.__init__

    def counting_init(self: pipeline.Producer, jobs: Any, **kwargs: Any) -> None:
        helpers.append(len(jobs))
        real_init(self, jobs, **kwargs)

    monkeypatch.setattr(pipeline.Producer, "__init__", counting_init)
    result = engine.sync_mailbox(sync_case.mailbox.pk)

    assert helpers == [2]
    assert result.error == "" and result.fetched == 13
    assert_in_step(sync_case.mailbox, sync_case.client, ["INBOX", "Archive"])
    # Each folder's position reached its last UID: nothing is fetched again.
    again = engine.sync_mailbox(sync_case.mailbox.pk)
    assert again.error == "" and again.fetched == 0


def test_disabled_integration_skips_office365_mailboxes(sync_case: SyncCase, admin_user: Any) -> None:
    from inboxbridge.configuration.models import StoredSetting
    from inboxbridge.microsoft.config import EMAIL_SYNC_ENABLED

    StoredSetting.objects.filter(key=EMAIL_SYNC_ENABLED.key).update(value="0")
    append(sync_case.client, "INBOX", make_message("Not now"))
    result = engine.sync_mailbox(sync_case.mailbox.pk)
    assert result.fetched == 0 and not result.complete and "disabled" in result.error
    assert not Placement.objects.exists()


def test_folder_listing_and_login_helpers(sync_case: SyncCase) -> None:
    from inboxbridge.mailboxes.credentials import imap_login

    login = imap_login(sync_case.mailbox)
    check_login(login)
    names = {f.name: f for f in list_folders(login)}
    assert {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"} <= set(names)
    assert names["Trash"].special_use == "\\Trash" and names["INBOX"].special_use == "\\Inbox"
    assert names["INBOX"].delimiter == "/"


def test_non_ascii_folder_names(sync_case: SyncCase) -> None:
    name = encode_mutf7("Entwürfe/Zürich & Co")
    create_folder(sync_case.client, name)
    append(sync_case.client, name, make_message("In a folder with umlauts"))
    select_folders(sync_case.mailbox, name)

    assert engine.sync_mailbox(sync_case.mailbox.pk).fetched == 1

    folder = Folder.objects.get(mailbox=sync_case.mailbox, name=name)
    assert folder.display_name == "Entwürfe/Zürich & Co" and folder.delimiter == "/"
    assert_in_step(sync_case.mailbox, sync_case.client, [name])


def test_append_message_stores_a_copy_once(sync_case: SyncCase) -> None:
    from inboxbridge.mailboxes.credentials import imap_login
    from inboxbridge.mailserver.imap import append_message

    raw = make_message("Sent from the app", message_id="sent-once@x.test")
    login = imap_login(sync_case.mailbox)
    assert append_message(login, "Sent", raw, ("\\Seen",)) is True
    assert append_message(login, "Sent", raw, ("\\Seen",)) is False  # a retry must not duplicate it
    select_folders(sync_case.mailbox, "Sent")
    engine.sync_mailbox(sync_case.mailbox.pk)
    copy = Email.objects.get(message_id="sent-once@x.test")
    assert copy.is_seen and copy.placements.count() == 1
    assert_in_step(sync_case.mailbox, sync_case.client, ["Sent"])
