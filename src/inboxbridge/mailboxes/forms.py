from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from inboxbridge.lib import netguard
from inboxbridge.mailboxes import server_policy
from inboxbridge.mailboxes.messages import already_connected
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailboxes.queries import AnyUser, connected_already

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

    def __init__(self, *args: Any, saved: Mailbox | None = None, owner: AnyUser | None = None, **kwargs: Any) -> None:
        """`saved`: the Other mailbox being changed, whose stored password an empty field keeps;
        `owner`: the user whose mailbox it is (each address once per user)."""
        super().__init__(*args, **kwargs)
        self.saved = saved
        self.owner = owner
        self._patterns = server_policy.allowed_patterns()

    def clean_email_address(self) -> str:
        address = str(self.cleaned_data["email_address"])
        if self.owner is not None and connected_already(self.owner, address,
                                                        exclude_pk=self.saved.pk if self.saved else None):
            raise forms.ValidationError(already_connected(address))
        return address

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


class SharedMailboxForm(forms.Form):
    """Email Configuration: a shared mailbox the user holds Full Access on."""

    shared_address = forms.EmailField(
        label="Shared mailbox address", max_length=320,
        help_text="You sign in at Microsoft as yourself; Exchange must grant you Full Access on this mailbox "
                  "(and Send As to send from it).")

    def __init__(self, *args: Any, user: AnyUser | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_shared_address(self) -> str:
        address = str(self.cleaned_data["shared_address"]).strip()
        if self.user is not None and connected_already(self.user, address):
            raise forms.ValidationError(already_connected(address))
        return address


# "Sync mail from", one choice for every kind of mailbox: all mail, the last N days, a date typed
# below, and for a system mailbox the day it was set up (its default: a shared mailbox added today
# does not pull in years of mail unless an administrator picks an earlier date or all mail).
SYNC_ALL, SYNC_SETUP, SYNC_DATE = "all", "setup", "date"


class FolderSelectionForm(forms.Form):
    """The folders of one mailbox to synchronize, from when their mail is synced and which folder
    keeps the copies of sent mail. `folders` are the mailbox's folders on the server; `mailbox`
    defaults to theirs. Fields the caller leaves out of `initial` show the mailbox's saved choices."""

    sync_from_date = forms.DateField(label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, folders: list[Folder], mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.folders = folders
        self.mailbox = mailbox or (folders[0].mailbox if folders else None)
        self.fields["folders"] = forms.TypedMultipleChoiceField(
            label="Folders", choices=[(f.pk, f.display_name) for f in folders], coerce=int, required=False,
            widget=forms.CheckboxSelectMultiple,
        )
        self.setup_day = (timezone.localdate(self.mailbox.created_at)
                          if self.mailbox is not None and self.mailbox.is_system and self.mailbox.created_at else None)
        setup = [(SYNC_SETUP, f"The day it was set up ({self.setup_day:%Y-%m-%d})")] if self.setup_day else []
        # Not required: a form without it (an older page) keeps the mailbox's saved choice.
        self.fields["sync_start"] = forms.ChoiceField(label="Sync mail from", required=False, choices=[
            *setup, (SYNC_ALL, "All mail"), *((days, label) for days, label in WINDOW_CHOICES if days),
            (SYNC_DATE, "The date below")])
        automatic = next((f.display_name for f in folders if f.special_use.lower() == "\\sent"), "")
        self.fields["sent_folder"] = forms.ChoiceField(label="Sent folder", required=False, choices=[
            ("", f"Automatic ({automatic})" if automatic else "Automatic (the folder named Sent Items or Sent)"),
            *((f.name, f.display_name) for f in folders),
        ])
        for name, value in self._saved().items():
            self.initial.setdefault(name, value)

    def _saved(self) -> dict[str, object]:
        """The mailbox's choices as this form shows them."""
        mailbox = self.mailbox
        if mailbox is None:
            return {"sync_start": SYNC_ALL}
        names = {f.name for f in self.folders}
        sent = mailbox.sent_folder_name if mailbox.sent_folder_name in names else next(
            (f.name for f in self.folders if f.special_use.lower() == "\\sent"), "")
        saved: dict[str, object] = {"sent_folder": sent}
        if mailbox.sync_from:
            if mailbox.sync_from == self.setup_day:
                return saved | {"sync_start": SYNC_SETUP}
            return saved | {"sync_start": SYNC_DATE, "sync_from_date": mailbox.sync_from}
        if mailbox.initial_sync_days:
            return saved | {"sync_start": str(mailbox.initial_sync_days)}
        # Nothing saved: a system mailbox whose folders were never chosen starts at its setup; once
        # chosen with nothing saved, the administrator picked all mail.
        never_chosen = not any(f.selected or f.last_uid for f in self.folders)
        return saved | {"sync_start": SYNC_SETUP if self.setup_day and never_chosen else SYNC_ALL}

    def clean(self) -> dict[str, Any]:
        """Adds what select_folders takes: initial_sync_days (N days) or sync_from (a day), or
        neither (all mail)."""
        data = super().clean() or {}
        start, day = data.get("sync_start") or str(self.initial["sync_start"]), data.get("sync_from_date")
        if start == SYNC_DATE and day is None:
            self.add_error("sync_from_date", "Enter the date to sync mail from, or choose another option.")
        elif start != SYNC_DATE and day is not None:
            self.add_error("sync_from_date", f"You entered {day:%Y-%m-%d}: choose “The date below” in Sync mail "
                                             "from to use it, or clear the date.")
        elif day is not None and day > timezone.localdate():
            self.add_error("sync_from_date", "The date is in the future: no mail would be synced until then.")
        data["initial_sync_days"] = int(start) if start.isdigit() else None
        data["sync_from"] = day if start == SYNC_DATE else self.setup_day if start == SYNC_SETUP else None
        return data

    def refusal(self) -> str:
        """What was wrong with the submitted choices, in one sentence per problem."""
        problems = [f"{self.fields[name].label}: {error}" if name in self.fields else str(error)
                    for name, errors in self.errors.items() for error in errors]
        return "The folder selection was not saved. " + " ".join(problems)


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
        self.fields["account_type"].help_text = (
            "Office 365: an administrator signs in as the mailbox's own (licensed) account. Office 365 shared "
            "mailbox (delegate): someone who holds Full Access on it signs in as themselves. Office 365 "
            "(app-only): the application's own credential, granted the mailbox in Exchange; no person signs in.")
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
