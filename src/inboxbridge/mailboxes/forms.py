from __future__ import annotations

from django import forms

from inboxbridge.mailboxes.models import Folder

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
        help_text="Leave empty to keep the stored password.",
    )


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
