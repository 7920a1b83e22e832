from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from inboxbridge.api.models import ApiToken

EXPIRY_CHOICES = [("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("180", "180 days"), ("365", "1 year")]


class UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{obj.get_username()} ({name})" if name else obj.get_username()


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CRM integration”.")
    scopes = forms.MultipleChoiceField(choices=ApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": "Choose at least one scope."})
    expires_in = forms.TypedChoiceField(label="Expires after", choices=EXPIRY_CHOICES, coerce=int, initial="90")
    # Administrators only: a token for another user (a service user the application signs in as).
    user = UserChoice(label="For user", queryset=User.objects.none(), required=False,
                      help_text="The token acts as this user, with their access to mailboxes. Empty: yourself.")

    def __init__(self, author: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if author.is_staff:
            self.fields["user"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]
        else:
            del self.fields["user"]

    @property
    def expires_at(self) -> Any:
        return timezone.now() + timedelta(days=self.cleaned_data["expires_in"])
