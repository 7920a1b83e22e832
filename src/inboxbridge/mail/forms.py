from __future__ import annotations

from django import forms

from inboxbridge.mail.queries import Position
from inboxbridge.mail.search import MAX_QUERY_CHARS


class ListForm(forms.Form):
    """The list's query string: filters and the keyset position. Odd values are cut or ignored, not
    errors: a mangled bookmark still shows mail."""

    q = forms.CharField(required=False, strip=True)
    unread = forms.BooleanField(required=False)
    flagged = forms.BooleanField(required=False)
    before = forms.CharField(required=False)
    after = forms.CharField(required=False)
    mailbox = forms.IntegerField(required=False, min_value=1, max_value=2**62)

    @property
    def mailbox_id(self) -> int | None:
        return self.cleaned_data.get("mailbox") if self.is_valid() else None

    def value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "") if self.is_valid() else ""

    @property
    def query(self) -> str:
        return self.value("q")[:MAX_QUERY_CHARS]

    @property
    def unread_only(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data["unread"])

    @property
    def flagged_only(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data["flagged"])

    def position(self, name: str) -> Position | None:
        return Position.decode(self.value(name)[:60])


class StateForm(forms.Form):
    """One of the states a reader switches (read, flagged): a yes/no field and the page to go back to."""

    what = ""  # named in the answer to a value that is neither
    field = ""
    next = forms.CharField(required=False, max_length=2000)

    @property
    def state(self) -> bool:
        return bool(self.cleaned_data[self.field])


class ReadStateForm(StateForm):
    what, field = "read state", "seen"
    seen = forms.TypedChoiceField(choices=[("1", "read"), ("0", "unread")], coerce=lambda v: v == "1")


class FlagStateForm(StateForm):
    what, field = "flag state", "flagged"
    flagged = forms.TypedChoiceField(choices=[("1", "flagged"), ("0", "not flagged")], coerce=lambda v: v == "1")
