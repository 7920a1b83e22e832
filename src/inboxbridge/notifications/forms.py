"""The forms of My Configuration > Notifications and of Application Email."""

from __future__ import annotations

from typing import Any

from django import forms

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.notifications.models import Kind


class PreferencesForm(forms.Form):
    """Two checkboxes per kind that concerns the user: by email, in the app."""

    def __init__(self, *args: Any, current: dict[str, tuple[bool, bool]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = list(current)
        for kind, (by_email, in_app) in current.items():
            label = Kind(kind).label
            self.fields[f"{kind}-email"] = forms.BooleanField(required=False, initial=by_email,
                                                              label=f"{label}: by email")
            self.fields[f"{kind}-app"] = forms.BooleanField(required=False, initial=in_app,
                                                            label=f"{label}: in the app")

    def rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(Kind(kind).label, self[f"{kind}-email"], self[f"{kind}-app"]) for kind in self.kinds]

    def choices(self) -> dict[str, tuple[bool, bool]]:
        return {kind: (self.cleaned_data[f"{kind}-email"], self.cleaned_data[f"{kind}-app"]) for kind in self.kinds}


class ApplicationEmailForm(forms.Form):
    mailbox: forms.ChoiceField = forms.ChoiceField(label="Send the application's email from", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mailboxes = Mailbox.objects.filter(owner__isnull=True, active=True).order_by("label")
        field = self.fields["mailbox"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "No mailbox: send no email")] + [
            (mailbox.email_address.lower(), f"{mailbox.label} ({mailbox.email_address}, "
                                             f"{mailbox.get_account_type_display()})")
            for mailbox in mailboxes
        ]
