from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from inboxbridge.events.models import EventType
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import visible_mailboxes
from inboxbridge.webhooks.sender import UrlRefused, vet_url


class MailboxChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Mailbox) -> str:
        return f"{obj.label} ({obj.email_address})" if obj.label else obj.email_address


class EndpointForm(forms.Form):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https",
                         help_text="Where inboxbridge POSTs each event, signed (Standard Webhooks).")
    description = forms.CharField(max_length=200, required=False, help_text="What receives it, e.g. “CRM”.")
    events = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one event."})
    mailbox = MailboxChoice(queryset=Mailbox.objects.none(), required=False, error_messages={
        "invalid_choice": "Choose one of the mailboxes listed: an endpoint receives events only of mailboxes "
                          "its owner may read."})

    def __init__(self, user: User, *args: Any, system: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mailbox_field: Any = self.fields["mailbox"]
        # An administrator's endpoint may follow any mailbox; a user's only those they may read.
        choices = Mailbox.objects.all() if system else visible_mailboxes(user)
        mailbox_field.queryset = choices.filter(active=True).order_by("email_address")
        mailbox_field.empty_label = "Every mailbox" if system else "All mailboxes I can read"

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            vet_url(url)
        except UrlRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url
