"""The pure sync decisions, without a server or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inboxbridge.mailserver.imap_parse import uid_ranges
from inboxbridge.sync.plan import (
    FLAG_RECHECK,
    Action,
    Assessment,
    Known,
    LocalFolder,
    RemoteListing,
    RemoteStatus,
    Rename,
    assess,
    find_renames,
    flag_updates,
    flags_from_imap,
    plan_folder,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def local(**kwargs: object) -> LocalFolder:
    values: dict[str, object] = {
        "folder_id": 1, "name": "INBOX", "uidvalidity": 7, "last_uid": 10, "uidnext": 11, "messages": 10,
        "highestmodseq": 100, "last_synced_at": NOW - timedelta(minutes=1),
    }
    values.update(kwargs)
    return LocalFolder(**values)  # type: ignore[arg-type]


def remote(**kwargs: object) -> RemoteStatus:
    values: dict[str, object] = {"uidvalidity": 7, "uidnext": 11, "messages": 10, "highestmodseq": 100}
    values.update(kwargs)
    return RemoteStatus(**values)  # type: ignore[arg-type]


def known(*uids: int, seen: bool = False, flagged: bool = False, pending: bool = False) -> dict[int, Known]:
    return {uid: Known(email_id=1000 + uid, seen=seen, flagged=flagged, flags_pending=pending) for uid in uids}


# -- assess: the cheap STATUS-only decision ------------------------------------------------------


class TestAssess:
    def test_unchanged_folder_is_skipped(self) -> None:
        assert assess(local(), remote(), now=NOW).action is Action.SKIP

    def test_unchanged_without_condstore_is_skipped_while_flags_are_fresh(self) -> None:
        folder = local(highestmodseq=None)
        assert assess(folder, remote(highestmodseq=None), now=NOW).action is Action.SKIP

    def test_unchanged_without_condstore_is_rescanned_for_flags_after_a_while(self) -> None:
        folder = local(highestmodseq=None, last_synced_at=NOW - FLAG_RECHECK - timedelta(seconds=1))
        decision = assess(folder, remote(highestmodseq=None), now=NOW)
        assert decision == Assessment(Action.SCAN, None, None)

    def test_never_checked_without_condstore_is_scanned(self) -> None:
        folder = local(highestmodseq=None, last_synced_at=None)
        assert assess(folder, remote(highestmodseq=None), now=NOW).action is Action.SCAN

    @pytest.mark.parametrize("change", [{"uidnext": 12}, {"messages": 9}, {"messages": 11}])
    def test_new_or_removed_mail_is_scanned(self, change: dict[str, int]) -> None:
        assert assess(local(), remote(**change), now=NOW).action is Action.SCAN

    def test_flag_change_only_asks_for_changed_flags(self) -> None:
        decision = assess(local(), remote(highestmodseq=105), now=NOW)
        assert decision == Assessment(Action.SCAN, flags_changed_since=100, window=None)

    def test_modseq_going_backwards_compares_every_flag(self) -> None:
        decision = assess(local(), remote(highestmodseq=50), now=NOW)
        assert decision.action is Action.SCAN and decision.flags_changed_since is None

    def test_condstore_appearing_later_scans_all_flags(self) -> None:
        decision = assess(local(highestmodseq=None), remote(highestmodseq=3), now=NOW)
        assert decision.action is Action.SCAN and decision.flags_changed_since is None

    def test_uidvalidity_change_resets(self) -> None:
        decision = assess(local(), remote(uidvalidity=8), now=NOW)
        assert decision.action is Action.RESET and decision.flags_changed_since is None

    def test_uidvalidity_change_wins_even_when_counts_match(self) -> None:
        assert assess(local(), remote(uidvalidity=8, highestmodseq=100), now=NOW).action is Action.RESET

    def test_first_sync_scans_with_the_initial_window(self) -> None:
        since = date(2026, 4, 1)
        folder = local(uidvalidity=None, last_uid=0, uidnext=None, messages=None, highestmodseq=None,
                       sync_since=since, last_synced_at=None)
        assert assess(folder, remote(), now=NOW) == Assessment(Action.SCAN, None, since)

    def test_uidnext_unknown_on_the_server_never_skips(self) -> None:
        folder = local(highestmodseq=None, last_synced_at=NOW)
        assert assess(folder, remote(uidnext=None, highestmodseq=None), now=NOW).action is Action.SCAN


# -- plan_folder: what to fetch, delete and update -----------------------------------------------


def plan(folder: LocalFolder, status: RemoteStatus, held: dict[int, Known], uids: list[int],
         flags: dict[int, tuple[bool, bool]] | None = None, window: list[int] | None = None):  # type: ignore[no-untyped-def]
    decision = assess(folder, status, now=NOW)
    return plan_folder(folder, decision, status, held, RemoteListing(uids, flags or {}, window))


class TestPlanFolder:
    def test_first_sync_fetches_everything_in_uid_order(self) -> None:
        folder = local(uidvalidity=None, last_uid=0, uidnext=None, messages=None)
        result = plan(folder, remote(), {}, [5, 3, 9, 1])
        assert result.fetch == [1, 3, 5, 9] and not result.delete and not result.flag_updates

    def test_only_uids_above_last_uid_are_fetched(self) -> None:
        result = plan(local(), remote(uidnext=14, messages=13), known(*range(1, 11)), [*range(1, 11), 11, 12, 13])
        assert result.fetch == [11, 12, 13]

    def test_known_uids_are_never_fetched_again(self) -> None:
        # last_uid lags behind after a server skipped a UID in a FETCH; what we hold stays put.
        result = plan(local(last_uid=4), remote(uidnext=9, messages=5), known(1, 2, 3, 4, 6, 7),
                      [1, 2, 3, 4, 5, 6, 7])
        assert result.fetch == [5]

    def test_uids_below_last_uid_that_we_never_had_stay_unfetched(self) -> None:
        # Below last_uid every UID was handled (e.g. outside the initial window): no refetch.
        result = plan(local(last_uid=10), remote(uidnext=12, messages=3), known(8, 10), [2, 8, 10, 11])
        assert result.fetch == [11]

    def test_deleted_on_server_are_planned_for_deletion(self) -> None:
        result = plan(local(), remote(messages=8), known(*range(1, 11)), [1, 2, 3, 5, 6, 7, 8, 10])
        assert result.delete == [4, 9] and result.fetch == []

    def test_everything_deleted(self) -> None:
        result = plan(local(), remote(messages=0), known(1, 2), [])
        assert result.delete == [1, 2]

    def test_initial_window_limits_the_first_fetch(self) -> None:
        since = date(2026, 4, 1)
        folder = local(uidvalidity=None, last_uid=0, uidnext=None, messages=None, sync_since=since)
        result = plan(folder, remote(), {}, [1, 2, 3, 4, 5], window=[4, 5])
        assert result.fetch == [4, 5]

    def test_window_keeps_applying_to_mail_appended_later(self) -> None:
        since = date(2026, 4, 1)
        folder = local(last_uid=5, sync_since=since, highestmodseq=None)
        result = plan(folder, remote(uidnext=9, messages=5, highestmodseq=None), known(4, 5),
                      [1, 2, 3, 4, 5, 6, 7, 8], window=[4, 5, 7])
        assert result.fetch == [7]

    def test_window_does_not_make_old_mail_look_deleted(self) -> None:
        folder = local(last_uid=5, sync_since=date(2026, 4, 1))
        result = plan(folder, remote(uidnext=6, messages=5, highestmodseq=101), known(4, 5),
                      [1, 2, 3, 4, 5], window=[4, 5])
        assert result.delete == []

    def test_uidvalidity_reset_refetches_all_and_drops_stale_uids(self) -> None:
        folder = local()
        status = remote(uidvalidity=8, uidnext=4, messages=3)
        decision = assess(folder, status, now=NOW)
        # After the reset the old placements are held under negative UIDs (store.reset_folder).
        stale = {-1: Known(11, True, False), -2: Known(12, False, False)}
        result = plan_folder(folder, decision, status, stale, RemoteListing([1, 2, 3]))
        assert result.reset
        assert result.fetch == [1, 2, 3]
        assert result.delete == [-2, -1]
        assert result.flag_updates == {}

    def test_has_work(self) -> None:
        assert not plan(local(), remote(highestmodseq=101), known(1), [1], {1: (False, False)}).has_work
        assert plan(local(), remote(highestmodseq=101), known(1), [1], {1: (True, False)}).has_work


# -- flags ---------------------------------------------------------------------------------------


class TestFlags:
    def test_server_read_mark_is_taken(self) -> None:
        assert flag_updates(known(1), {1: (True, False)}) == {1001: (True, False)}

    def test_server_unread_and_flag_changes_are_taken(self) -> None:
        assert flag_updates(known(1, seen=True), {1: (False, True)}) == {1001: (False, True)}

    def test_equal_flags_are_not_updates(self) -> None:
        assert flag_updates(known(1, seen=True), {1: (True, False)}) == {}

    def test_pending_local_change_wins(self) -> None:
        # The user marked it read here; the server still says unread until the push.
        assert flag_updates(known(1, seen=True, pending=True), {1: (False, False)}) == {}

    def test_flags_of_unknown_uids_are_ignored(self) -> None:
        assert flag_updates(known(1), {2: (True, True)}) == {}

    def test_changed_since_answers_only_hold_the_changed(self) -> None:
        result = plan(local(), remote(highestmodseq=110), known(1, 2, 3), [1, 2, 3], {2: (True, False)})
        assert result.flag_updates == {1002: (True, False)} and not result.fetch and not result.delete

    @pytest.mark.parametrize(
        ("flags", "expected"),
        [
            (["\\Seen"], (True, False)),
            (["\\Flagged", "$Forwarded"], (False, True)),
            (["\\seen", "\\FLAGGED"], (True, True)),
            ([], (False, False)),
            (["\\Recent", "\\Answered"], (False, False)),
        ],
    )
    def test_flags_from_imap(self, flags: list[str], expected: tuple[bool, bool]) -> None:
        assert flags_from_imap(flags) == expected


# -- renames and moves ---------------------------------------------------------------------------


class TestRenames:
    def test_missing_folder_with_same_uidvalidity_is_a_rename(self) -> None:
        assert find_renames({5: ("Projects", 42)}, {"Work/Projects": 42, "Other": 43}) == [
            Rename(5, "Projects", "Work/Projects")
        ]

    def test_no_matching_uidvalidity_is_no_rename(self) -> None:
        assert find_renames({5: ("Projects", 42)}, {"Other": 43}) == []

    def test_ambiguous_candidates_are_not_guessed(self) -> None:
        assert find_renames({5: ("Projects", 42)}, {"A": 42, "B": 42}) == []

    def test_two_missing_folders_sharing_a_uidvalidity_are_not_guessed(self) -> None:
        assert find_renames({5: ("A", 42), 6: ("B", 42)}, {"C": 42}) == []

    def test_unknown_uidvalidity_is_ignored(self) -> None:
        assert find_renames({5: ("A", None)}, {"B": None}) == []

    def test_several_renames(self) -> None:
        found = find_renames({1: ("A", 10), 2: ("B", 20)}, {"A2": 10, "B2": 20})
        assert found == [Rename(1, "A", "A2"), Rename(2, "B", "B2")]

    def test_a_move_is_an_addition_in_one_folder_and_a_deletion_in_another(self) -> None:
        # Message 3 of A moved to B: B fetches it (and re-links the Email by Message-ID), A plans
        # the deletion, which the engine applies after every addition of the run.
        source = plan(local(folder_id=1), remote(messages=2), known(1, 2, 3), [1, 2])
        target = plan(local(folder_id=2, name="B", last_uid=5, uidnext=6, messages=5),
                      remote(uidnext=7, messages=6), known(1, 2, 3, 4, 5), [1, 2, 3, 4, 5, 6])
        assert source.delete == [3] and not source.fetch
        assert target.fetch == [6] and not target.delete


# -- helpers -------------------------------------------------------------------------------------


class TestUidSets:
    @pytest.mark.parametrize(
        ("uids", "expected"),
        [([], ""), ([7], "7"), ([1, 2, 3], "1:3"), ([1, 2, 3, 5, 7, 8], "1:3,5,7:8"), ([4, 6], "4,6")],
    )
    def test_uid_ranges(self, uids: list[int], expected: str) -> None:
        assert uid_ranges(uids) == expected

    @given(st.lists(st.integers(min_value=1, max_value=5000), unique=True))
    def test_uid_ranges_round_trip(self, uids: list[int]) -> None:
        uids.sort()
        expanded: list[int] = []
        for part in filter(None, uid_ranges(uids).split(",")):
            low, _, high = part.partition(":")
            expanded.extend(range(int(low), int(high or low) + 1))
        assert expanded == uids


@given(
    server=st.sets(st.integers(min_value=1, max_value=60)),
    held=st.sets(st.integers(min_value=1, max_value=60)),
    last_uid=st.integers(min_value=0, max_value=60),
)
def test_plan_never_fetches_what_it_holds_nor_deletes_what_is_there(server: set[int], held: set[int],
                                                                    last_uid: int) -> None:
    folder = local(last_uid=last_uid)
    status = remote(uidnext=61, messages=len(server), highestmodseq=200)
    result = plan_folder(folder, assess(folder, status, now=NOW), status, known(*held), RemoteListing(sorted(server)))
    assert not set(result.fetch) & held
    assert set(result.fetch) <= server and all(uid > last_uid for uid in result.fetch)
    assert set(result.delete) == held - server
    assert result.fetch == sorted(result.fetch)
