from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from inboxbridge.mail.models import Attachment
from inboxbridge.mail.queries import User
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import images
from inboxbridge.sending.addresses import Address, parse_addresses
from inboxbridge.sending.mime import Part
from inboxbridge.sending.models import DraftAttachment
from inboxbridge.sending.queries import sendable_mailboxes

ADDRESS_LIST_MAX_CHARS = 20_000
BODY_MAX_CHARS = 1_000_000
SUBJECT_MAX_CHARS = 900
SIGNATURE_MAX_CHARS = 20_000


class MailboxChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Mailbox) -> str:
        return obj.email_address if obj.owner_id else f"{obj.label} <{obj.email_address}>"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one <input type=file multiple>."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item]


def _address_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=ADDRESS_LIST_MAX_CHARS,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "list": "address-suggestions",
                                      "class": "address-field"}),
        help_text="" if label != "To" else "Separate addresses with commas or semicolons.",
    )


def _single_line(value: str, what: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        # A line break in a header would let the text write headers of its own.
        raise forms.ValidationError(f"The {what} must be a single line.")
    return value


class DraftForm(forms.Form):
    """What was typed, checked only for length and the From choice: a draft keeps anything."""

    mailbox = MailboxChoice(label="From", queryset=Mailbox.objects.none(), empty_label=None)
    to = _address_field("To")
    cc = _address_field("Cc")
    bcc = _address_field("Bcc")
    subject = forms.CharField(label="Subject", required=False, max_length=SUBJECT_MAX_CHARS)
    body = forms.CharField(label="Message", required=False, strip=False, max_length=BODY_MAX_CHARS,
                           widget=forms.Textarea(attrs={"rows": 16}))
    # Written by the editor (sending/compose.js); empty without it, and then the message is plain text.
    body_html = forms.CharField(required=False, strip=False, max_length=BODY_MAX_CHARS, widget=forms.HiddenInput)
    attach = MultipleFileField(label="Attach files", required=False)
    keep_upload = forms.TypedMultipleChoiceField(label="Attached", coerce=int, required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    keep_original = forms.TypedMultipleChoiceField(label="The original's attachments", coerce=int, required=False,
                                                   widget=forms.CheckboxSelectMultiple)
    forward_as_attachment = forms.BooleanField(label="Also attach the original message as a file (.eml)",
                                               required=False)

    def __init__(self, user: User, *args: Any, originals: Sequence[Attachment] = (),
                 uploads: Sequence[DraftAttachment] = (), forwarding: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only a mailbox the user may send from: a posted id of another one is "not a valid choice".
        self.fields["mailbox"].queryset = sendable_mailboxes(user)  # type: ignore[attr-defined]
        self.originals = {part.pk: part for part in originals}
        self.uploads = {part.pk: part for part in uploads}
        cast(forms.ChoiceField, self.fields["keep_original"]).choices = [
            (pk, _label(p.filename, p.size)) for pk, p in self.originals.items()]
        cast(forms.ChoiceField, self.fields["keep_upload"]).choices = [
            (pk, _label(p.filename, p.size)) for pk, p in self.uploads.items()]
        for name, present in (("keep_original", originals), ("keep_upload", uploads),
                              ("forward_as_attachment", forwarding)):
            if not present:
                del self.fields[name]

    @property
    def removed_uploads(self) -> list[int]:
        kept = set(self.cleaned_data.get("keep_upload") or [])
        return [pk for pk in self.uploads if pk not in kept]

    def carried_size(self, *, original_size: int = 0, inline_size: int = 0) -> int:
        """The bytes of files the message would carry (of a valid form): the new and kept files, the
        original's, and what composing.carried_sizes counted (the .eml, the inline images shown)."""
        data = self.cleaned_data
        return (sum(upload.size or 0 for upload in data.get("attach") or [])
                + sum(self.uploads[pk].size for pk in data.get("keep_upload") or [])
                + sum(self.originals[pk].size for pk in data.get("keep_original") or [])
                + (original_size if data.get("forward_as_attachment") else 0)
                + (inline_size if data.get("body_html") else 0))

    def said_errors(self) -> str:
        """The form's errors in one line, each after its field's label (for an answer in JSON)."""
        said = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            said.append(f"{label}: " * bool(label) + " ".join(str(error) for error in errors))
        return " ".join(said)


class ComposeForm(DraftForm):
    """The message as it is sent: addresses parsed, headers one line, files within the limit."""

    def __init__(self, *args: Any, original_size: int = 0, inline_size: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.original_size = original_size  # the forwarded message, when it goes as a file
        self.inline_size = inline_size  # the inline images the HTML shows (the original's, the inserted ones)

    def _addresses(self, name: str) -> list[Address]:
        return parse_addresses(self.cleaned_data.get(name) or "")

    def clean_to(self) -> list[Address]:
        return self._addresses("to")

    def clean_cc(self) -> list[Address]:
        return self._addresses("cc")

    def clean_bcc(self) -> list[Address]:
        return self._addresses("bcc")

    def clean_subject(self) -> str:
        return _single_line(self.cleaned_data.get("subject") or "", "subject")

    def clean_attach(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attach") or []
        for upload in files:
            _single_line(upload.name or "", "file name")
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not (data.get("to") or data.get("cc") or data.get("bcc")):
            self.add_error("to", "Add at least one recipient.")
        total = self.carried_size(original_size=self.original_size, inline_size=self.inline_size)
        limit = settings.SEND_MAX_BYTES
        if total > limit:
            self.add_error("attach", f"The files come to {filesizeformat(total)}; a message may carry at most "
                                    f"{filesizeformat(limit)} of files (mail servers refuse bigger messages). "
                                    "Remove some, or send them in several messages.")
        return data


class InsertImageForm(forms.Form):
    """An image inserted into the text of a message (the editor's Insert image, a paste, a drop):
    one of the formats every mail client shows, told by its content, within the message's limit."""

    image = forms.FileField(label="Image")

    def clean_image(self) -> Part:
        upload: UploadedFile = self.cleaned_data["image"]
        name = upload.name or ""
        limit = settings.SEND_MAX_BYTES
        size = upload.size or 0
        if size > limit:
            raise forms.ValidationError(f"“{name or 'The image'}” is {filesizeformat(size)}; a message may "
                                        f"carry at most {filesizeformat(limit)} of files. Make it smaller, or "
                                        "send it in a message of its own.")
        data = upload.read()
        try:
            content_type = images.image_type(name, upload.content_type or "", data)
        except images.ImageRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return Part(images.image_filename(name, content_type), content_type, data)


class SignatureForm(forms.Form):
    signature = forms.CharField(label="Signature", required=False, strip=False, max_length=SIGNATURE_MAX_CHARS,
                                widget=forms.Textarea(attrs={"rows": 6}),
                                help_text="Inserted above the quoted text when you write a message.")


def _label(filename: str, size: int) -> str:
    return f"{filename or 'attachment'} ({filesizeformat(size)})"
