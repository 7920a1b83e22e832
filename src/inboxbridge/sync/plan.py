"""Pure sync decisions: given what we hold and what the server says, what to do. No ORM, no IO.

The engine gathers the facts (store.py reads the database, mailserver/imap.py asks the server), these
functions decide, and store.py applies the decisions. Keeping the decisions pure lets every
corner case (UIDVALIDITY resets, renames, moves, flag conflicts) be tested without a server.

Invariants the plans rely on:
- `last_uid` only grows within one UIDVALIDITY and is committed with the mail below it, so
  "fetch UIDs above last_uid" never loses or repeats a message.
- Placement deletions are applied only after every addition of the run (a message moved from A to
  B is linked to B before it leaves A, so its Email survives) and only when the run fetched all it
  planned: an interrupted run computes them again next time from the server's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum

from inboxbridge.mailserver.imap_parse import RemoteStatus


@dataclass(frozen=True)
class Known:
    """A placement we hold: the folder's UID points at an Email with these local flags."""

    email_id: int
    seen: bool
    flagged: bool
    flags_pending: bool = False


@dataclass(frozen=True)
class LocalFolder:
    """Sync position of one selected folder, as stored."""

    folder_id: int
    name: str
    uidvalidity: int | None = None
    last_uid: int = 0
    uidnext: int | None = None
    messages: int | None = None
    highestmodseq: int | None = None
    sync_since: date | None = None
    last_synced_at: datetime | None = None


class Action(Enum):
    SKIP = "skip"  # nothing changed: no SEARCH, no FETCH
    RESET = "reset"  # UIDVALIDITY changed: forget the UIDs, fetch everything again
    SCAN = "scan"  # look at the folder's UIDs and flags


@dataclass(frozen=True)
class Assessment:
    action: Action
    # Ask only for flags changed since this modseq (CONDSTORE); None = fetch the flags of all known UIDs.
    flags_changed_since: int | None = None
    # The initial window: only mail with INTERNALDATE on or after this day is fetched.
    window: date | None = None


# Without CONDSTORE (Exchange Online has none), STATUS cannot reveal flag changes made on the
# server; an unchanged folder is still rescanned for flags this often.
FLAG_RECHECK = timedelta(minutes=15)


def assess(
    local: LocalFolder, remote: RemoteStatus, *, now: datetime, flag_recheck: timedelta = FLAG_RECHECK
) -> Assessment:
    """Decide from STATUS alone whether a folder needs work (the cheap path of every run)."""
    if local.uidvalidity is not None and local.uidvalidity != remote.uidvalidity:
        return Assessment(Action.RESET, None, local.sync_since)
    if local.uidvalidity is None:
        return Assessment(Action.SCAN, None, local.sync_since)
    unchanged = (
        local.uidnext is not None
        and local.uidnext == remote.uidnext
        and local.messages == remote.messages
    )
    if remote.highestmodseq is not None:
        if local.highestmodseq is None:
            # CONDSTORE is new to us: compare every flag once to have a modseq to start from.
            return Assessment(Action.SCAN, None, local.sync_since)
        if unchanged and remote.highestmodseq == local.highestmodseq:
            return Assessment(Action.SKIP)
        # A lower HIGHESTMODSEQ means the server lost its modseq history: compare every flag.
        since = local.highestmodseq if remote.highestmodseq >= local.highestmodseq else None
        return Assessment(Action.SCAN, since, local.sync_since)
    recently_checked = local.last_synced_at is not None and now - local.last_synced_at < flag_recheck
    if unchanged and recently_checked:
        return Assessment(Action.SKIP)
    return Assessment(Action.SCAN, None, local.sync_since)


@dataclass(frozen=True)
class RemoteListing:
    """The server's contents of a folder, as far as the assessment asked for them."""

    uids: Sequence[int]  # every UID in the folder (UID SEARCH ALL)
    # Flags of known UIDs: all of them, or those changed since the modseq the assessment gave.
    flags: Mapping[int, tuple[bool, bool]] = field(default_factory=dict)  # uid -> (seen, flagged)
    window_uids: Sequence[int] | None = None  # UIDs inside the initial window, when one applies


@dataclass
class FolderPlan:
    folder_id: int
    reset: bool = False
    fetch: list[int] = field(default_factory=list)  # ascending
    delete: list[int] = field(default_factory=list)  # UIDs whose placements go (at the end of the run)
    flag_updates: dict[int, tuple[bool, bool]] = field(default_factory=dict)  # email_id -> (seen, flagged)
    status: RemoteStatus | None = None  # to store once the folder is done

    @property
    def has_work(self) -> bool:
        return bool(self.reset or self.fetch or self.delete or self.flag_updates)


def plan_folder(
    local: LocalFolder,
    assessment: Assessment,
    status: RemoteStatus,
    known: Mapping[int, Known],
    listing: RemoteListing,
) -> FolderPlan:
    """The work for one folder. After a RESET, `known` must be what is left after forgetting the
    folder's UIDs (nothing), and `local.last_uid` counts as 0."""
    plan = FolderPlan(local.folder_id, reset=assessment.action is Action.RESET, status=status)
    last_uid = 0 if plan.reset else local.last_uid
    on_server = set(listing.uids)
    candidates = listing.window_uids if assessment.window is not None and listing.window_uids is not None \
        else listing.uids
    plan.fetch = sorted(uid for uid in set(candidates) if uid > last_uid and uid not in known)
    # After a reset `known` holds only the forgotten (negative) UIDs: all of them go at the end.
    plan.delete = sorted(uid for uid in known if uid not in on_server)
    if not plan.reset:
        plan.flag_updates = flag_updates(known, listing.flags)
    return plan


def flag_updates(
    known: Mapping[int, Known], remote_flags: Mapping[int, tuple[bool, bool]]
) -> dict[int, tuple[bool, bool]]:
    """Server flags that differ from ours, per Email. Emails with changes of our own not yet pushed
    (flags_pending) keep ours: the push will make the server agree."""
    updates: dict[int, tuple[bool, bool]] = {}
    for uid, (seen, flagged) in remote_flags.items():
        mine = known.get(uid)
        if mine is None or mine.flags_pending:
            continue
        if (mine.seen, mine.flagged) != (seen, flagged):
            updates[mine.email_id] = (seen, flagged)
    return updates


def flags_from_imap(flags: Iterable[str]) -> tuple[bool, bool]:
    """(seen, flagged) from an IMAP FLAGS list."""
    lowered = {flag.lower() for flag in flags}
    return "\\seen" in lowered, "\\flagged" in lowered


@dataclass(frozen=True)
class Rename:
    folder_id: int
    old_name: str
    new_name: str


def find_renames(
    missing: Mapping[int, tuple[str, int | None]],
    appeared: Mapping[str, int | None],
) -> list[Rename]:
    """Selected folders gone from the server (folder_id -> (name, stored UIDVALIDITY)) matched with
    folders new on the server (name -> UIDVALIDITY from STATUS). A rename keeps UIDVALIDITY
    (RFC 3501 6.3.5), so a unique match means the same folder under a new name: its placements
    stay valid. An ambiguous match (two candidates with one UIDVALIDITY) is not guessed at."""
    by_validity: dict[int, list[str]] = {}
    for name, validity in appeared.items():
        if validity is not None:
            by_validity.setdefault(validity, []).append(name)
    stored_counts: dict[int, int] = {}
    for _name, validity in missing.values():
        if validity is not None:
            stored_counts[validity] = stored_counts.get(validity, 0) + 1
    renames = []
    for folder_id, (name, validity) in sorted(missing.items()):
        if validity is None:
            continue
        names = by_validity.get(validity, [])
        if len(names) == 1 and stored_counts[validity] == 1:
            renames.append(Rename(folder_id, name, names[0]))
    return renames
