"""The Other Mail Servers form."""

from __future__ import annotations

from django import forms

from inboxbridge.lib.netguard import parse_host_patterns


class OtherMailServersForm(forms.Form):
    enabled = forms.BooleanField(label="Allow Other accounts (IMAP and SMTP with a password)", required=False)
    allowed_hosts = forms.CharField(
        label="Allowed mail servers", required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "imap.example.com, smtp.example.com, *.example.org"}),
        help_text="Host names, IP addresses or *.domain wildcards (every name below the domain), separated by "
                  "commas or lines. Empty: any mail server with a public address.",
    )

    def clean_allowed_hosts(self) -> list[str]:
        try:
            return parse_host_patterns(self.cleaned_data["allowed_hosts"])
        except ValueError as wrong:
            raise forms.ValidationError(str(wrong)) from None
