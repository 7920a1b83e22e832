"""Typed address lists that would make the stdlib parser recurse too deep get the form's message,
not a server error."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from inboxbridge.sending.addresses import parse_addresses


@pytest.mark.parametrize("typed", ["(" * 900, "a:" * 450, "(" * 5000 + "bob@example.org", '"\\' * 3000])
def test_deeply_nested_entries_are_refused_as_not_addresses(typed):
    with pytest.raises(ValidationError, match="Not an email address"):
        parse_addresses(typed)


def test_addresses_around_a_refused_entry_are_named_apart():
    with pytest.raises(ValidationError, match="These are not email addresses"):
        parse_addresses("bob@example.org, " + "(" * 900 + ", " + "x" * 2000)
    assert parse_addresses("Bob <bob@example.org>") == [("Bob", "bob@example.org")]
