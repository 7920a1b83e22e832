"""`inboxbridge sync [--mailbox ID ...] [--all]`: sync now, in this process, with a progress bar per
mailbox and a one-line summary each. Exit code 1 when any mailbox failed (the reason is printed).
Each sync holds the mailbox's lease, as a worker's does, so it never runs beside one; whether the
mailbox may sync at all is the rule of mailboxes.eligibility, checked by the run itself."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

from inboxbridge.jobs.runner import run_sync
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.engine import SyncResult


def run_sync_command(mailbox_ids: list[int], all_mailboxes: bool, *, out: TextIO | None = None,
                     err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    if not mailbox_ids and not all_mailboxes:
        print("inboxbridge sync: give --mailbox ID (repeatable) or --all", file=err)
        return 2
    # Only what the output names them by: the run loads each mailbox itself.
    if all_mailboxes:
        named = list(Mailbox.objects.filter(active=True, sync_enabled=True).order_by("pk")
                     .values_list("pk", "email_address"))
    else:
        found = dict(Mailbox.objects.filter(pk__in=mailbox_ids).values_list("pk", "email_address"))
        named = [(pk, found[pk]) for pk in dict.fromkeys(mailbox_ids) if pk in found]
    failed = False
    for pk in dict.fromkeys(mailbox_ids):
        if not all_mailboxes and pk not in {mailbox_id for mailbox_id, _address in named}:
            print(f"mailbox {pk}: failed: there is no mailbox with this id", file=err)
            failed = True
    if not named and all_mailboxes:
        print("inboxbridge sync: no mailbox has synchronization switched on", file=out)
    for pk, address in named:
        failed = not _sync_one(pk, address, out, err) or failed
    return 1 if failed else 0


def _sync_one(mailbox_id: int, address: str, out: TextIO, err: TextIO) -> bool:
    label = f"mailbox {mailbox_id} ({address})"
    bar = tqdm(total=0, desc=address, unit="msg", file=err, leave=False, dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    started = time.monotonic()
    try:
        # Under the mailbox's lease, like a worker's sync: never beside one, and the outcome
        # (next due time, back-off after a failure) is recorded the same way.
        run = run_sync(mailbox_id, manual=True, time_budget=None, progress=progress)
    finally:
        bar.close()
    if run.refusal is not None:
        print(f"{label}: failed: {run.refusal.operator_text}", file=err)
        return False
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
