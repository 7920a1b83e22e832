"""`inboxbridge sync`: a summary line per mailbox and an exit code that tells failures apart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from inboxbridge.cli import main
from inboxbridge.jobs.models import SyncRun
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.tests.helpers import SyncCase, append, make_message

pytestmark = [pytest.mark.django_db]


@pytest.mark.mailserver
def test_sync_prints_a_summary(sync_case: SyncCase, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        append(sync_case.client, "INBOX", make_message(f"Cli {n}"))

    assert main(["sync", "--mailbox", str(sync_case.mailbox.pk)]) == 0

    out = capsys.readouterr().out
    assert f"mailbox {sync_case.mailbox.pk} ({sync_case.address}): 3 fetched, 0 updated, 0 deleted" in out
    # It ran under the mailbox's lease, as a worker would, and gave it back with the next due time.
    run = SyncRun.objects.get(mailbox=sync_case.mailbox)
    assert (run.outcome, run.fetched, run.finished_at is not None) == ("ok", 3, True)
    sync_case.mailbox.refresh_from_db()
    assert not sync_case.mailbox.lease_owner and sync_case.mailbox.next_sync_at > timezone.now()
    assert main(["sync", "--all"]) == 0
    assert "0 fetched, 0 updated, 0 deleted, 1 folders unchanged" in capsys.readouterr().out


@pytest.mark.mailserver
def test_failed_mailbox_gives_exit_code_1_and_the_reason(sync_case: SyncCase,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    broken = Mailbox.objects.create(label="Nobody", email_address="nobody@example.test", account_type="other",
                                    imap_host="127.0.0.1", imap_port=1, imap_ssl=False, password="x")

    assert main(["sync", "--mailbox", str(sync_case.mailbox.pk), "--mailbox", str(broken.pk)]) == 1

    captured = capsys.readouterr()
    assert f"mailbox {sync_case.mailbox.pk} ({sync_case.address}): 0 fetched" in captured.out
    assert f"mailbox {broken.pk} (nobody@example.test): failed: Could not connect to 127.0.0.1:1" in captured.err
    broken.refresh_from_db()
    assert broken.failure_count == 1  # counted like a worker's failed attempt: retried after a back-off


def test_unknown_mailbox_and_missing_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "--mailbox", "999999"]) == 1
    assert "mailbox 999999: failed: there is no mailbox with this id" in capsys.readouterr().err
    assert main(["sync"]) == 2
    assert main(["sync", "--all"]) == 0
    assert "no mailbox has synchronization switched on" in capsys.readouterr().out


def test_mailbox_held_by_a_worker_is_left_alone(capsys: pytest.CaptureFixture[str], settings: Any) -> None:
    mailbox = Mailbox.objects.create(label="Busy", email_address="busy@example.test", account_type="other",
                                     imap_host="127.0.0.1", imap_port=1, password="x", lease_owner="worker-1/abc",
                                     lease_expires_at=timezone.now() + timedelta(minutes=5))
    assert main(["sync", "--mailbox", str(mailbox.pk)]) == 1
    assert "a worker is syncing this mailbox right now" in capsys.readouterr().err


def test_mailboxes_that_cannot_sync_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    revoked = Mailbox.objects.create(label="Revoked", email_address="revoked@example.test", account_type="other",
                                     imap_host="127.0.0.1", imap_port=1, password="x", needs_reconnect=True)
    paused = Mailbox.objects.create(label="Paused", email_address="paused@example.test", account_type="other",
                                    imap_host="127.0.0.1", imap_port=1, password="x", sync_enabled=False)
    assert main(["sync", "--mailbox", str(revoked.pk), "--mailbox", str(paused.pk)]) == 1
    err = capsys.readouterr().err
    assert ("revoked@example.test): failed: its sign-in was refused; "
            "the owner must reconnect it in Email Configuration") in err
    assert "paused@example.test): failed: synchronization is switched off for this mailbox" in err
    assert not SyncRun.objects.exists()
