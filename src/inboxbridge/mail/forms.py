from __future__ import annotations

from django import forms

from inboxbridge.mail.queries import Position
from inboxbridge.mail.search import MAX_QUERY_CHARS


class ListForm(forms.Form):
    """The list's query string: filters and the keyset position. Odd values are cut or ignored, not
    errors: a mangled bookmark still shows mail."""

    q = forms.CharField(required=False, strip=True)
    unread = forms.BooleanField(required=False)
    before = forms.CharField(required=False)
    after = forms.CharField(required=False)

    def value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "") if self.is_valid() else ""

    @property
    def query(self) -> str:
        return self.value("q")[:MAX_QUERY_CHARS]

    @property
    def unread_only(self) -> bool:
        return bool(self.is_valid() and self.cleaned_data["unread"])

    def position(self, name: str) -> Position | None:
        return Position.decode(self.value(name)[:60])


class ReadStateForm(forms.Form):
    seen = forms.TypedChoiceField(choices=[("1", "read"), ("0", "unread")], coerce=lambda v: v == "1")
    next = forms.CharField(required=False, max_length=2000)
