from __future__ import annotations

from typing import Any

from django import forms

from inboxbridge.lib import netguard
from inboxbridge.mailboxes import server_policy
from inboxbridge.mailboxes.models import Folder, Mailbox

WINDOW_CHOICES = [("", "All mail"), ("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"),
                  ("365", "Last year")]


class OtherAccountForm(forms.Form):
    email_address = forms.EmailField(label="Email address")
    imap_host = forms.CharField(label="IMAP host", max_length=255)
    imap_port = forms.IntegerField(label="IMAP port", min_value=1, max_value=65535, initial=993)
    imap_ssl = forms.BooleanField(label="IMAP over SSL/TLS (off: STARTTLS)", required=False, initial=True)
    smtp_host = forms.CharField(label="SMTP host", max_length=255)
    smtp_port = forms.IntegerField(label="SMTP port", min_value=1, max_value=65535, initial=587)
    smtp_security = forms.ChoiceField(
        label="SMTP security", choices=[("starttls", "STARTTLS"), ("ssl", "SSL/TLS"), ("none", "None")]
    )
    username = forms.CharField(label="Username", max_length=320)
    password = forms.CharField(
        label="Password", required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the stored password. After changing a host, port or security setting, "
                  "enter it again: the stored password only ever goes to the servers it was saved for.",
    )

    def __init__(self, *args: Any, saved: Mailbox | None = None, **kwargs: Any) -> None:
        """`saved`: the user's Other mailbox, whose stored password an empty field keeps."""
        super().__init__(*args, **kwargs)
        self.saved = saved
        self._patterns = server_policy.allowed_patterns()

    def _clean_host(self, name: str) -> str:
        try:
            host = netguard.normalize_host(self.cleaned_data[name])
        except ValueError as wrong:
            raise forms.ValidationError(str(wrong)) from None
        refusal = server_policy.name_refusal(host, patterns=self._patterns)
        if refusal:
            raise forms.ValidationError(refusal)
        return host

    def clean_imap_host(self) -> str:
        return self._clean_host("imap_host")

    def clean_smtp_host(self) -> str:
        return self._clean_host("smtp_host")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") or self.errors:
            return data
        if self.saved is None:
            self.add_error("password", "Enter the password.")
        elif server_settings_changed(self.saved, data):
            self.add_error("password", "You changed the mail server settings: enter the password again. The stored "
                                       "password is only sent to the servers it was saved for.")
        return data

    def candidate(self) -> Mailbox:
        """The account as submitted, with the stored password when the field was left empty."""
        data = dict(self.cleaned_data)
        data["password"] = data["password"] or (self.saved.password if self.saved else "")
        return Mailbox(account_type=Mailbox.AccountType.OTHER, **data)


def server_settings_changed(saved: Mailbox, data: dict[str, Any]) -> bool:
    """Whether the stored password would go somewhere else, or less protected, than where it was saved."""
    submitted = Mailbox(**{name: data.get(name) for name in (
        "imap_host", "imap_port", "imap_ssl", "smtp_host", "smtp_port", "smtp_security")})
    return _servers(saved) != _servers(submitted)


def _servers(mailbox: Mailbox) -> tuple[object, ...]:
    """Where and how the password goes, as credentials/password.py will use it (ports and security defaulted)."""
    return (mailbox.imap_host.strip().lower().rstrip("."), mailbox.imap_port or (993 if mailbox.imap_ssl else 143),
            bool(mailbox.imap_ssl), mailbox.smtp_host.strip().lower().rstrip("."), mailbox.smtp_port or 587,
            mailbox.smtp_security or "starttls")


class FolderSelectionForm(forms.Form):
    initial_sync_days = forms.TypedChoiceField(
        label="Initial sync", choices=WINDOW_CHOICES, required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: object, folders: list[Folder], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.folders = folders
        self.fields["folders"] = forms.TypedMultipleChoiceField(
            choices=[(f.pk, f.display_name) for f in folders], coerce=int, required=False,
            widget=forms.CheckboxSelectMultiple,
        )


def folder_depth(folder: Folder) -> int:
    return folder.name.count(folder.delimiter) if folder.delimiter else 0


class OtherMailServersForm(forms.Form):
    """System > Configuration > Other Mail Servers (administrators)."""

    enabled = forms.BooleanField(label="Allow Other accounts (IMAP and SMTP with a password)", required=False)
    allowed_hosts = forms.CharField(
        label="Allowed mail servers", required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "imap.example.com, smtp.example.com, *.example.org"}),
        help_text="Host names, IP addresses or *.domain wildcards (every name below the domain), separated by "
                  "commas or lines. Empty: any mail server with a public address.",
    )

    def clean_allowed_hosts(self) -> list[str]:
        try:
            return netguard.parse_host_patterns(self.cleaned_data["allowed_hosts"])
        except ValueError as wrong:
            raise forms.ValidationError(str(wrong)) from None


class SystemMailboxForm(forms.ModelForm):
    """System > Configuration > Email Configuration > System Mailboxes: General and Access Management."""

    class Meta:
        model = Mailbox
        fields = ["label", "email_address", "account_type", "authorized_users", "authorized_roles"]
        labels = {"label": "Mailbox Label", "email_address": "Email", "authorized_users": "Authorized Users",
                  "authorized_roles": "Authorized Roles"}
        widgets = {"authorized_users": forms.CheckboxSelectMultiple, "authorized_roles": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["label"].required = True
        self.fields["authorized_users"].help_text = "Besides the administrators, who see every system mailbox."
        self.fields["authorized_roles"].help_text = "Every member of these groups reads the mailbox's mail."
        if self.instance.pk:
            # The account type of a saved mailbox changes by deleting it and adding a new one.
            self.fields["account_type"].disabled = True

    def _unique(self, name: str, what: str) -> str:
        # The model's constraints name `owner` and `active`, which are not fields of this form, so
        # ModelForm would skip them: the same rule is checked here, the database still enforces it.
        value = self.cleaned_data[name]
        taken = Mailbox.objects.filter(owner__isnull=True, active=True, **{f"{name}__iexact": value})
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"A system mailbox with this {what} already exists.")
        return str(value)

    def clean_label(self) -> str:
        return self._unique("label", "label").strip()

    def clean_email_address(self) -> str:
        return self._unique("email_address", "email address")
