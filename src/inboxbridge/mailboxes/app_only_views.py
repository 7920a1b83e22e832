"""The app-only part of a system mailbox's page (administrators): the Enterprise application's
Object ID for the Exchange Online PowerShell, admin consent for the application permissions, and
the Test button. The section itself is mailboxes/_app_only.html."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mailboxes.app_only_check import check_app_only_mailbox
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import actions as microsoft_actions
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import app_mail_scopes, load_config
from inboxbridge.microsoft.settings_flows import ADMIN_CONSENT

SECTION = "#app-only"


class ObjectIdForm(forms.Form):
    object_id = forms.CharField(label="Enterprise application Object ID", max_length=36, strip=True)

    def clean_object_id(self) -> str:
        value = self.cleaned_data["object_id"]
        try:
            object_id = str(uuid.UUID(value))
        except ValueError:
            raise forms.ValidationError(
                f"{value!r} is not an Object ID: copy the GUID under Entra ID > Enterprise applications > "
                "the app > Overview > Object ID.") from None
        if object_id == load_config().client_id.lower():
            raise forms.ValidationError(
                "This is the Application (client) ID. Exchange needs the Enterprise application's Object ID "
                "(Entra ID > Enterprise applications > the app > Overview > Object ID).")
        return object_id


def _app_only_mailbox(pk: int) -> Mailbox:
    return get_object_or_404(Mailbox, pk=pk, owner__isnull=True, active=True,
                             account_type=Mailbox.AccountType.OFFICE365_APP)


def _page(pk: int) -> str:
    return reverse("mailbox-settings:system-mailbox", args=[pk]) + SECTION


@admin_required
@require_POST
def save_object_id(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _app_only_mailbox(pk)
    form = ObjectIdForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for error in form.errors["object_id"]))
    elif microsoft_actions.save_enterprise_app_object_id(request.user, form.cleaned_data["object_id"]):
        messages.success(request, "Object ID saved: the PowerShell below now names the service principal.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect(_page(pk))


@admin_required
@require_POST
def check_connection(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Log in over IMAP and SMTP as the application; each step's answer is a message on the page."""
    for answer in check_app_only_mailbox(_app_only_mailbox(pk)):
        (messages.success if answer.ok else messages.error)(request, answer.text)
    return redirect(_page(pk))


@admin_required
@require_POST
def admin_consent(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Microsoft's admin consent for the application permissions (`.default` of Exchange Online);
    the answer comes back through the one Redirect URI to this page."""
    _app_only_mailbox(pk)
    config = load_config()
    if not (config.client_id and config.tenant_id):
        messages.error(request, "Save the Application (client) ID and Directory (tenant) ID in Microsoft Settings "
                                "first.")
        return redirect(_page(pk))
    return flows.start_admin_consent(request, ADMIN_CONSENT, config, scopes=app_mail_scopes(),
                                     back=reverse("mailbox-settings:system-mailbox", args=[pk]))
