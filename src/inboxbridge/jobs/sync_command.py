"""`inboxbridge sync [--mailbox ID ...] [--all]`: sync now, in this process, with a progress bar per
mailbox and a one-line summary each. Exit code 1 when any mailbox failed (the reason is printed).
Each sync holds the mailbox's lease, as a worker's does, so it never runs beside one."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

from inboxbridge.jobs.runner import office365_enabled, run_sync
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.engine import SyncResult


def run_sync_command(mailbox_ids: list[int], all_mailboxes: bool, *, out: TextIO | None = None,
                     err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if not mailbox_ids and not all_mailboxes:
        print("inboxbridge sync: give --mailbox ID (repeatable) or --all", file=err)
        return 2
    if all_mailboxes:
        mailboxes = list(Mailbox.objects.filter(active=True, sync_enabled=True).order_by("pk"))
    else:
        found = {m.pk: m for m in Mailbox.objects.filter(pk__in=mailbox_ids)}
        mailboxes = [found[pk] for pk in dict.fromkeys(mailbox_ids) if pk in found]
    failed = False
    for pk in dict.fromkeys(mailbox_ids):
        if not all_mailboxes and pk not in {m.pk for m in mailboxes}:
            print(f"mailbox {pk}: failed: there is no mailbox with this id", file=err)
            failed = True
    if not mailboxes and all_mailboxes:
        print("inboxbridge sync: no mailbox has synchronization switched on", file=out)
    for mailbox in mailboxes:
        failed = not _sync_one(mailbox, out, err) or failed
    return 1 if failed else 0


def _sync_one(mailbox: Mailbox, out: TextIO, err: TextIO) -> bool:
    label = f"mailbox {mailbox.pk} ({mailbox.email_address})"
    if mailbox.needs_reconnect:
        print(f"{label}: failed: its sign-in was refused; the owner must reconnect it in Email Configuration",
              file=err)
        return False
    if not mailbox.schedulable:
        print(f"{label}: failed: synchronization is switched off for this mailbox", file=err)
        return False
    if mailbox.account_type == Mailbox.AccountType.OFFICE365 and not office365_enabled():
        print(f"{label}: failed: the Microsoft 365 integration is disabled in Microsoft Settings", file=err)
        return False
    bar = tqdm(total=0, desc=mailbox.email_address, unit="msg", file=err, leave=False, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    started = time.monotonic()
    try:
        # Under the mailbox's lease, like a worker's sync: never beside one, and the outcome
        # (next due time, back-off after a failure) is recorded the same way.
        run = run_sync(mailbox.pk, manual=True, time_budget=None, progress=progress)
    finally:
        bar.close()
    if not run.ran:
        print(f"{label}: failed: a worker is syncing this mailbox right now; try again when it is done", file=err)
        return False
    if run.result is not None:
        print(f"{label}: {summary(run.result, time.monotonic() - started)}", file=out)
    if run.error or run.result is None:
        print(f"{label}: failed: {run.error or 'another worker took the mailbox over'}", file=err)
        return False
    return True


def summary(result: SyncResult, seconds: float) -> str:
    text = (f"{result.fetched} fetched, {result.updated} updated, {result.deleted} deleted, "
            f"{result.folders_skipped} folders unchanged, {seconds:.1f} s")
    if not result.complete and not result.error:
        text += " (time budget spent: more to fetch)"
    return text
