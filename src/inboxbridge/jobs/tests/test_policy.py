from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inboxbridge.jobs.policy import Outcome, backoff_seconds, is_throttled, next_schedule, retry_after

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def schedule(outcome: Outcome, failures: int = 0, interval: int = 60, cap: int = 1800):
    return next_schedule(outcome, failures, NOW, interval=interval, cap=cap, jitter=0.0)


def test_a_complete_sync_is_due_again_one_interval_later_and_clears_failures():
    assert schedule(Outcome(complete=True), failures=3) == (NOW + timedelta(seconds=60), 0)


def test_a_sync_cut_short_by_its_time_budget_is_due_again_at_once():
    assert schedule(Outcome(complete=False)) == (NOW, 0)


def test_failures_back_off_exponentially_up_to_the_cap():
    delays = []
    failures = 0
    for _ in range(8):
        due, failures = schedule(Outcome(complete=False, error="connection lost"), failures)
        delays.append(int((due - NOW).total_seconds()))
    assert delays == [60, 120, 240, 480, 960, 1800, 1800, 1800]
    assert failures == 8
    assert backoff_seconds(10_000, 60, 1800) == 1800


@pytest.mark.parametrize("error", [
    "SELECT: [LIMIT] Too many simultaneous connections",
    "Login: [UNAVAILABLE] Server busy, try again later",
    "Request is throttled. Suggested backoff time: 5000 milliseconds",
])
def test_throttling_answers_are_recognised_and_wait_at_least_two_intervals(error):
    assert is_throttled(error)
    due, failures = schedule(Outcome(complete=False, error=error))
    assert (due - NOW).total_seconds() == 120
    assert failures == 1


def test_an_explicit_retry_after_is_honoured_even_beyond_the_cap():
    error = "[THROTTLED] Retry-After: 3600"
    assert retry_after(error) == 3600
    due, _ = schedule(Outcome(complete=False, error=error))
    assert (due - NOW).total_seconds() == 3600


def test_an_ordinary_error_is_not_throttling():
    assert not is_throttled("Authentication failed.")
    assert retry_after("Authentication failed.") is None


def test_failure_delays_are_jittered_by_at_most_ten_percent():
    for _ in range(50):
        due, _ = next_schedule(Outcome(complete=False, error="x"), 0, NOW, interval=60, cap=1800)
        assert 60 <= (due - NOW).total_seconds() <= 66
