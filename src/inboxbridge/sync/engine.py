"""The sync loop: ask the server (mailserver/imap.py), decide (plan.py), write (store.py). Nothing else here.

One run of `sync_mailbox`:
1. push flags the user changed here (flags_pending) to the server (mail/flag_push.py);
2. list the folders, notice renames, then per selected folder STATUS and, unless nothing changed,
   SEARCH + FLAGS to plan: what to fetch, which flags changed, what is gone;
3. fetch what is new, folder by folder, in UID order, committing each batch with the folder's
   new position; stop when the time budget is spent;
4. when everything planned was fetched: delete the placements of messages gone from the server,
   the Emails left in no folder, and remember each folder's STATUS for the cheap skip next time.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from inboxbridge.lib.content_store import ContentStoreError
from inboxbridge.lib.redact import redact
from inboxbridge.mail.blobs import attachment_store
from inboxbridge.mail.flag_push import push_pending_flags
from inboxbridge.mailboxes.actions import update_folders
from inboxbridge.mailboxes.credentials import imap_login
from inboxbridge.mailboxes.eligibility import sync_refusal
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.messages import RECONNECT_MESSAGE
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailboxes.sessions import MailboxLogin, open_imap_session
from inboxbridge.mailserver.imap import ImapError, ImapSession, RemoteFolder
from inboxbridge.microsoft.errors import MicrosoftError
from inboxbridge.sync import store
from inboxbridge.sync.bulk import BulkWrites, sqlite_bulk_writes
from inboxbridge.sync.pipeline import (
    SEND_BYTES,
    Failure,
    Incoming,
    Job,
    Producer,
    parse_limits,
    prepared,
    share_out,
)
from inboxbridge.sync.plan import (
    Action,
    FolderPlan,
    LocalFolder,
    RemoteListing,
    find_renames,
    flags_from_imap,
    plan_folder,
)
from inboxbridge.sync.plan import assess as assess_folder

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
# A batch is also committed once it holds this much mail, so a run of 2 MB messages stays small.
BATCH_BYTES = 16 * 1024 * 1024
# From this many messages to fetch on, fetching and parsing run in a helper process (pipeline.py).
PARALLEL_MIN_MESSAGES = 300
DISK_FULL_MESSAGE = ("The disk holding the database is full: the last batch was not stored and nothing "
                     "was lost. Free some space; the next sync carries on from here.")


def _parallel_min() -> int:
    return max(int(getattr(settings, "SYNC_PARALLEL_MIN_MESSAGES", PARALLEL_MIN_MESSAGES)), 1)


def _disk_full(exc: DatabaseError) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100)."""
    cause = exc.__cause__ or exc
    return "database or disk is full" in str(exc) or getattr(cause, "sqlstate", None) == "53100"


@dataclass
class SyncResult:
    fetched: int = 0
    updated: int = 0
    deleted: int = 0
    folders_skipped: int = 0
    complete: bool = True
    error: str = ""


def sync_mailbox(
    mailbox_id: int, *, time_budget: float | None = None, progress: Progress | None = None,
    login: MailboxLogin | None = None,
) -> SyncResult:
    """One run over a mailbox, unless the rule (mailboxes.eligibility) says it may not sync now: then
    the result's error says why. `login` makes the mailbox's IMAP logins (credentials.imap_login)."""
    mailbox = store.load_mailbox(mailbox_id)
    result = SyncResult()
    refusal = sync_refusal(mailbox)
    if refusal is not None:
        result.complete, result.error = False, refusal.text
        return result
    login = login or imap_login
    deadline = time.monotonic() + time_budget if time_budget is not None else None
    store.mark_started(mailbox.pk)
    run: _Run | None = None
    try:
        with open_imap_session(mailbox, login=login) as session:
            run = _Run(mailbox, session, login, result, deadline, progress)
            run.execute()
    except ImapError as exc:
        result.error = exc.message
    except MailboxUnavailable as exc:
        result.error = str(exc)
    except MicrosoftError as exc:
        result.error = f"{RECONNECT_MESSAGE} ({exc.message})" if exc.is_grant_revoked else exc.message
    except ContentStoreError as exc:
        result.error = exc.message
    except Exception as exc:
        if isinstance(exc, DatabaseError) and _disk_full(exc):
            result.error = DISK_FULL_MESSAGE
        else:
            # A bug or a database outage: the traceback in the log, a short reason on the mailbox.
            logger.exception("Mailbox %s: sync failed", mailbox.pk)
            result.error = redact(f"Unexpected error ({exc.__class__.__name__}): {exc}")[:500]
    if result.error:
        result.complete = False
        logger.info("Mailbox %s: sync stopped: %s", mailbox.pk, result.error)
    store.mark_finished(mailbox.pk, backlog=run.backlog if run and run.planned_all else None, error=result.error,
                        changed=bool(result.fetched or result.updated or result.deleted))
    return result


@dataclass
class _Folder:
    folder: Folder
    local: LocalFolder
    plan: FolderPlan
    last_uid: int
    received: set[int] = field(default_factory=set)
    position: int = 0  # plan.fetch[:position] are all stored: the folder's safe last_uid
    batch: list[Incoming] = field(default_factory=list)
    batch_bytes: int = 0


@dataclass
class _Run:
    mailbox: Mailbox
    session: ImapSession
    login: MailboxLogin
    result: SyncResult
    deadline: float | None
    progress: Progress | None
    planned: list[_Folder] = field(default_factory=list)
    flags_set: set[int] = field(default_factory=set)  # Emails whose flags this run already took
    total: int = 0
    done: int = 0
    planned_all: bool = False  # every folder was assessed: total is the real backlog
    bulk: BulkWrites = field(default_factory=BulkWrites)

    @property
    def backlog(self) -> int:
        return max(self.total - self.done, 0)

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)

    def execute(self) -> None:
        push_pending_flags(self.mailbox, self.session)
        folders = self.refresh_folders()
        now = timezone.now()
        for folder in folders:
            self.plan(folder, now)
        self.total = sum(len(f.plan.fetch) for f in self.planned)
        self.planned_all = True
        self.report()
        with sqlite_bulk_writes() as self.bulk:
            fetched_all = self.fetch_all()
        if not fetched_all:
            self.result.complete = False
            return
        self.finish(now)

    # -- folders ---------------------------------------------------------------------------

    def refresh_folders(self) -> list[Folder]:
        remote = [f for f in self.session.list_folders() if f.selectable]
        stored = store.folders_of(self.mailbox.pk)
        by_name = {f.name: f for f in remote}
        missing = {f.pk: (f.name, f.uidvalidity) for f in stored
                   if f.selected and f.name not in by_name and f.uidvalidity is not None}
        if missing:
            synced = {f.name for f in stored if f.uidvalidity is not None}
            appeared = {f.name: self.session.status(f.name).uidvalidity for f in remote if f.name not in synced}
            renames = find_renames(missing, appeared)
            if renames:
                store.apply_renames(self.mailbox, renames, {f.name: f.display_name for f in remote})
                stored = store.folders_of(self.mailbox.pk)
        if _folders_changed(stored, remote):
            update_folders(self.mailbox, [(f.name, f.display_name, f.delimiter, f.special_use) for f in remote])
            stored = store.folders_of(self.mailbox.pk)
        chosen = [f for f in stored if f.selected and f.exists_on_server]
        # The Inbox first: it is what the user looks at.
        return sorted(chosen, key=lambda f: (f.special_use != "\\Inbox", f.name))

    def plan(self, folder: Folder, now: datetime) -> None:
        status = self.session.status(folder.name)
        local = store.local_folder(folder)
        assessment = assess_folder(local, status, now=now)
        if assessment.action is Action.SKIP:
            self.result.folders_skipped += 1
            return
        if assessment.action is Action.RESET:
            logger.warning("Mailbox %s: UIDVALIDITY of %r changed; fetching the folder again",
                           self.mailbox.pk, folder.name)
            store.reset_folder(folder.pk, status)
            local = replace(local, uidvalidity=status.uidvalidity, last_uid=0, highestmodseq=None)
        elif local.uidvalidity is None:
            # Remember it now: a change before this folder's first sync completes is a reset too.
            store.remember_uidvalidity(folder.pk, status.uidvalidity)
        known = store.known_messages(folder.pk)
        self.session.select(folder.name)
        uids = self.session.search()
        window = self.session.search(since=assessment.window) if assessment.window else None
        flags: dict[int, tuple[bool, bool]] = {}
        highest_known = max((uid for uid in known if uid > 0), default=0)
        if highest_known:
            raw = self.session.fetch_flags(f"1:{highest_known}", changed_since=assessment.flags_changed_since)
            flags = {uid: flags_from_imap(f) for uid, f in raw.items()}
        plan = plan_folder(local, assessment, status, known, RemoteListing(uids, flags, window))
        updates = {k: v for k, v in plan.flag_updates.items() if k not in self.flags_set}
        if updates:
            self.result.updated += store.apply_flag_updates(updates)
            self.flags_set.update(updates)
        self.planned.append(_Folder(folder, local, plan, local.last_uid))

    # -- fetching --------------------------------------------------------------------------

    def fetch_all(self) -> bool:
        """Fetch and store all planned mail; False when the time budget ran out first."""
        work = [item for item in self.planned if item.plan.fetch]
        if self.total >= _parallel_min():
            return self.fetch_in_helper(work)
        files, limits = attachment_store(), parse_limits()
        for item in work:
            self.session.select(item.folder.name)
            stream = self.session.fetch_messages(item.plan.fetch)
            try:
                for incoming in prepared(stream, limits, files):
                    if not self.add(item, incoming):
                        return False
            finally:
                stream.close()
            self.flush(item)
        return True

    def fetch_in_helper(self, work: list[_Folder]) -> bool:
        """The same, with fetching and parsing in helper processes (see pipeline.py), each over
        its own IMAP connection: one parsing process alone is the slowest link."""
        by_id = {item.folder.pk: item for item in work}
        # More connections only for work enough to share: each helper costs a process and a login.
        helpers = min(max(int(settings.SYNC_CONNECTIONS), 1), max(self.total // _parallel_min(), 1))
        shares = share_out([(i.folder.pk, i.folder.name, i.plan.fetch) for i in work], helpers)
        for attempt in (1, 2):
            login = self.login(self.mailbox, force_refresh=attempt == 2)
            files, limits = attachment_store(), parse_limits()
            producer = Producer([
                Job(login=login, ca_bundle=settings.CA_BUNDLE, timeout=float(settings.MAIL_NETWORK_TIMEOUT),
                    limits=limits, folders=share,
                    attachments_dir=str(files.root) if files is not None else "",
                    # Several helpers send smaller batches: the mail in flight stays that of one.
                    send_bytes=SEND_BYTES // len(shares))
                for share in shares
            ])
            # A folder is complete when every helper that fetches some of it says so.
            unfinished = Counter(folder_id for share in shares for folder_id, _name, _uids in share)
            try:
                for message in producer:
                    if isinstance(message, Failure):
                        if message.auth_failed and attempt == 1 and self.done == 0 and not any(
                            i.batch for i in work
                        ):
                            break  # the token expired just now: once more with a fresh one
                        raise ImapError(message.message, auth_failed=message.auth_failed,
                                        transient=message.transient)
                    folder_id, batch = message
                    item = by_id[folder_id]
                    if batch is None:
                        unfinished[folder_id] -= 1
                        if not unfinished[folder_id]:
                            self.flush(item)
                        continue
                    for incoming in batch:
                        if not self.add(item, incoming):
                            return False
                else:
                    if +unfinished:
                        raise ImapError("The fetching process ended unexpectedly.", transient=True)
                    return True
            finally:
                producer.stop()
        return True  # pragma: no cover - the loop returns or raises

    def add(self, item: _Folder, incoming: Incoming) -> bool:
        item.batch.append(incoming)
        item.batch_bytes += incoming.size
        if len(item.batch) >= max(int(settings.SYNC_BATCH_SIZE), 1) or item.batch_bytes >= BATCH_BYTES:
            self.flush(item)
            return not self.out_of_time()
        return True

    def flush(self, item: _Folder) -> None:
        """Commit the folder's pending messages together with its new safe last_uid."""
        if not item.batch:
            return
        batch, item.batch, item.batch_bytes = item.batch, [], 0
        requested = item.plan.fetch
        item.received.update(i.uid for i in batch)
        while item.position < len(requested) and requested[item.position] in item.received:
            item.position += 1
        last_uid = max(requested[item.position - 1] if item.position else 0, item.last_uid)
        self.result.fetched += store.store_batch(self.mailbox.pk, item.folder.pk, batch, last_uid)
        self.bulk.committed()
        self.done += len(batch)
        self.report()

    # -- the end of a complete run ---------------------------------------------------------

    def finish(self, now: datetime) -> None:
        gone: set[int] = set()
        for item in self.planned:
            if item.plan.delete:
                emails = store.delete_placements(item.folder.pk, item.plan.delete)
                self.result.deleted += len(item.plan.delete)
                gone.update(emails)
        if gone:
            store.delete_orphans(gone)
        for item in self.planned:
            if item.plan.status is not None:
                store.finish_folder(item.folder.pk, item.plan.status, at=now)


def _folders_changed(stored: list[Folder], remote: list[RemoteFolder]) -> bool:
    mine = {(f.name, f.display_name, f.delimiter, f.special_use) for f in stored if f.exists_on_server}
    theirs = {(f.name, f.display_name, f.delimiter, f.special_use) for f in remote}
    return mine != theirs
