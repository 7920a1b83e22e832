from __future__ import annotations

from django import forms

from inboxbridge.microsoft.forms import DOMAIN, GUID
from inboxbridge.signin.matching import parse_domains, parse_tenants


class SignInSettingsForm(forms.Form):
    enabled = forms.BooleanField(label="Enable Sign in with Microsoft", required=False)
    tenants = forms.CharField(
        label="Directories (tenant ids) whose accounts may sign in", required=False, max_length=4000,
        help_text="Comma-separated Directory (tenant) IDs. Accounts of any other directory are refused, even "
                  "when linked. Required when Microsoft Settings use common or organizations, which accept "
                  "accounts of every directory; with your own Directory (tenant) ID, empty means that "
                  "directory only.",
    )
    domains = forms.CharField(
        label="Domains whose accounts may link themselves", required=False, max_length=2000,
        help_text="Comma-separated, for example contoso.com. A Microsoft account of these domains whose "
                  "sign-in name is the email of a user here is linked to that user at its first sign-in. "
                  "The sign-in name (preferred_username) is a claim Microsoft calls mutable and not meant "
                  "for authorization, so this never links an administrator (staff or superuser), nor an "
                  "account its user unlinked: those link only by their user's own confirmed choice in "
                  "My Configuration > Sign-in. Leave empty to allow only accounts linked by their users.",
    )

    def clean_domains(self) -> list[str]:
        domains = parse_domains(self.cleaned_data["domains"])
        wrong = [d for d in domains if not DOMAIN.match(d)]
        if wrong:
            raise forms.ValidationError(f"Not a domain name: {', '.join(wrong)}.")
        return domains

    def clean_tenants(self) -> list[str]:
        tenants = parse_tenants(self.cleaned_data["tenants"])
        wrong = [t for t in tenants if not GUID.match(t)]
        if wrong:
            raise forms.ValidationError(
                f"Not a Directory (tenant) ID: {', '.join(wrong)}. It is a GUID, shown on the Overview of "
                "Microsoft Entra ID.")
        return list(dict.fromkeys(tenants))
