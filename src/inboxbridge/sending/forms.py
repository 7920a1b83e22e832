from __future__ import annotations

from typing import Any

from django import forms

from inboxbridge.mail.queries import User
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending.addresses import Address, parse_addresses
from inboxbridge.sending.queries import sendable_mailboxes

ADDRESS_LIST_MAX_CHARS = 20_000
BODY_MAX_CHARS = 1_000_000


class MailboxChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Mailbox) -> str:
        return obj.email_address


def _address_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=ADDRESS_LIST_MAX_CHARS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="" if label != "To" else "Separate addresses with commas or semicolons.",
    )


class ComposeForm(forms.Form):
    mailbox = MailboxChoice(label="From", queryset=Mailbox.objects.none(), empty_label=None)
    to = _address_field("To")
    cc = _address_field("Cc")
    bcc = _address_field("Bcc")
    subject = forms.CharField(label="Subject", required=False, max_length=900)
    body = forms.CharField(label="Message", required=False, strip=False, max_length=BODY_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 16}))

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the user's own sendable mailbox: a posted id of anyone else's is "not a valid choice".
        self.fields["mailbox"].queryset = sendable_mailboxes(user)  # type: ignore[attr-defined]

    def _addresses(self, name: str) -> list[Address]:
        return parse_addresses(self.cleaned_data.get(name) or "")

    def clean_to(self) -> list[Address]:
        return self._addresses("to")

    def clean_cc(self) -> list[Address]:
        return self._addresses("cc")

    def clean_bcc(self) -> list[Address]:
        return self._addresses("bcc")

    def clean_subject(self) -> str:
        subject: str = self.cleaned_data.get("subject") or ""
        if any(ch in subject for ch in "\r\n\0"):
            # A line break in a header would let the text write headers of its own.
            raise forms.ValidationError("The subject must be a single line.")
        return subject

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not (data.get("to") or data.get("cc") or data.get("bcc")):
            self.add_error("to", "Add at least one recipient.")
        return data
