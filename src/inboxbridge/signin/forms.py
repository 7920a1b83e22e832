from __future__ import annotations

from django import forms

from inboxbridge.configuration.forms import DOMAIN
from inboxbridge.signin.matching import parse_domains


class SignInSettingsForm(forms.Form):
    enabled = forms.BooleanField(label="Enable Sign in with Microsoft", required=False)
    domains = forms.CharField(
        label="Domains whose accounts may link themselves", required=False, max_length=2000,
        help_text="Comma-separated, for example contoso.com. A Microsoft account of these domains whose "
                  "sign-in name is a user's email here is linked to that user at its first sign-in. "
                  "Leave empty to allow only accounts linked by their users or connected as their mailbox.",
    )

    def clean_domains(self) -> list[str]:
        domains = parse_domains(self.cleaned_data["domains"])
        wrong = [d for d in domains if not DOMAIN.match(d)]
        if wrong:
            raise forms.ValidationError(f"Not a domain name: {', '.join(wrong)}.")
        return domains
