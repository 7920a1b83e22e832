"""How a big sync's UIDs are shared among helper processes (pipeline.share_out): a pure function."""

from __future__ import annotations

from inboxbridge.sync.pipeline import share_out


def test_one_helper_gets_everything_as_planned() -> None:
    folders = [(1, "INBOX", list(range(1, 251))), (2, "Archive", [7, 9])]
    assert share_out(folders, 1, run=100) == [folders]


def test_two_helpers_take_turns_from_the_oldest_end_of_each_folder() -> None:
    shares = share_out([(1, "INBOX", list(range(1, 11))), (2, "Archive", [20, 21, 22])], 2, run=3)
    assert shares == [
        [(1, "INBOX", [1, 2, 3, 7, 8, 9]), (2, "Archive", [20, 21, 22])],
        [(1, "INBOX", [4, 5, 6, 10])],
    ]
    # Every UID is fetched by exactly one helper, in order within each share.
    for folder_id, wanted in ((1, list(range(1, 11))), (2, [20, 21, 22])):
        got = [uid for share in shares for fid, _name, uids in share if fid == folder_id for uid in uids]
        assert sorted(got) == wanted and len(got) == len(set(got))


def test_the_turn_carries_over_between_folders_so_small_folders_spread_out() -> None:
    shares = share_out([(1, "A", [1]), (2, "B", [1]), (3, "C", [1]), (4, "D", [1])], 2, run=100)
    assert [[fid for fid, _n, _u in share] for share in shares] == [[1, 3], [2, 4]]


def test_helpers_without_work_are_left_out() -> None:
    assert share_out([(1, "INBOX", [5, 6])], 4, run=100) == [[(1, "INBOX", [5, 6])]]
    assert share_out([], 2) == []
