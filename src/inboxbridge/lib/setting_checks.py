"""The one shape of a system check on a setting that takes one of a few words."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.checks import CheckMessage, Error


def one_of(variable: str, value: str, allowed: Sequence[str], what: str, check_id: str) -> list[CheckMessage]:
    """No problem when `value` is allowed; else an error naming the variable, the value and the
    allowed words (configuration, never a secret, so the value is shown)."""
    if value in allowed:
        return []
    return [Error(
        f"{variable} is {value!r}, which is not {what}.",
        hint=f"Set {variable} to one of: {', '.join(allowed)}.",
        id=check_id,
    )]
