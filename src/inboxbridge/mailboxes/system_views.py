"""System > Configuration > Email Configuration > System Mailboxes (administrators): mailboxes with no
owner, read by their Authorized Users and Roles (see mailboxes.queries.visible_mailboxes)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mailboxes import actions, server_policy, views
from inboxbridge.mailboxes.alerts import alert_of
from inboxbridge.mailboxes.flows import SYSTEM_CONNECT, SYSTEM_DELEGATE_CONNECT
from inboxbridge.mailboxes.forms import FolderSelectionForm, OtherAccountForm, SystemMailboxForm, folder_depth
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tasks import purge_on_commit
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import load_config, mail_scopes

LIST = "mailbox-settings:system-mailboxes"
OTHER_FIELDS = ("imap_host", "imap_port", "imap_ssl", "smtp_host", "smtp_port", "smtp_security", "username")


def _system_mailbox(pk: int) -> Mailbox:
    return get_object_or_404(Mailbox, pk=pk, owner__isnull=True, active=True)


@admin_required
def system_mailboxes(request: AuthenticatedRequest) -> HttpResponse:
    mailboxes = Mailbox.objects.filter(owner__isnull=True, active=True).order_by("label")
    rows = [(mailbox, alert_of(mailbox, for_admin=True)) for mailbox in mailboxes]
    return render(request, "mailboxes/system_mailboxes.html", {"rows": rows})


@admin_required
def edit_system_mailbox(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    """Add (no pk) or Edit: General and Access Management."""
    mailbox = _system_mailbox(pk) if pk is not None else Mailbox(owner=None)
    form = SystemMailboxForm(request.POST or None, instance=mailbox)
    if request.method == "POST" and form.is_valid():
        saved = actions.save_system_mailbox(
            request.user, form.save(commit=False), authorized_users=form.cleaned_data["authorized_users"],
            authorized_roles=form.cleaned_data["authorized_roles"],
        )
        messages.success(request, f"System mailbox {saved.label} saved.")
        return redirect("mailbox-settings:system-mailbox", pk=saved.pk)
    return _page(request, mailbox, form, status=400 if request.method == "POST" else 200)


def _page(request: AuthenticatedRequest, mailbox: Mailbox, form: SystemMailboxForm,
          other_form: OtherAccountForm | None = None, *, status: int = 200) -> HttpResponse:
    """The edit page: General, Synchronization Settings (the pieces of a user's own Email
    Configuration page), Access Management."""
    context: dict[str, object] = {"form": form, "mailbox": mailbox}
    if mailbox.pk:
        folders = list(mailbox.folders.filter(exists_on_server=True))
        context |= {
            "folder_form": FolderSelectionForm(folders=folders, mailbox=mailbox,
                                               initial={"folders": [f.pk for f in folders if f.selected]}),
            "folder_rows": [(f, folder_depth(f)) for f in folders],
        }
    if mailbox.pk and mailbox.account_type == Mailbox.AccountType.OTHER:
        initial = {name: getattr(mailbox, name) for name in OTHER_FIELDS}
        context |= {
            "other_form": other_form or OtherAccountForm(initial={**initial, "email_address": mailbox.email_address}),
            "allowed_servers": server_policy.allowed_patterns(),
        }
    return render(request, "mailboxes/system_mailbox.html", context, status=status)


@admin_required
@require_POST
def save_system_other(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Synchronization Settings, account type Other: checked against the servers like a user's own."""
    mailbox = _system_mailbox(pk)
    if not server_policy.other_accounts_enabled():
        messages.error(request, server_policy.DISABLED_MESSAGE)
        return redirect("mailbox-settings:system-mailbox", pk=pk)
    data = request.POST.copy()
    data["email_address"] = mailbox.email_address  # the General settings' Email
    other_form = OtherAccountForm(data, saved=mailbox if mailbox.password else None)
    status = views.checked_other_account(request, other_form)
    if status is None:
        actions.save_system_other_account(request.user, mailbox, **other_form.cleaned_data)
        messages.success(request, "The mailbox settings were checked and saved.")
        return redirect("mailbox-settings:system-mailbox", pk=pk)
    return _page(request, mailbox, SystemMailboxForm(instance=mailbox), other_form, status=status)


@admin_required
@require_POST
def retrieve_system_folders(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return views.retrieve_folders_of(request, _system_mailbox(pk), redirect("mailbox-settings:system-mailbox", pk=pk))


@admin_required
@require_POST
def save_system_folders(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return views.save_folders_of(request, _system_mailbox(pk), redirect("mailbox-settings:system-mailbox", pk=pk))


@admin_required
@require_POST
def delete_system_mailbox(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    mailbox = _system_mailbox(pk)
    delete_mail = request.POST.get("mail") == "delete"
    purge_on_commit(actions.delete_system_mailbox(request.user, mailbox, delete_mail=delete_mail))
    messages.success(request, f"System mailbox {mailbox.label} is deleted. " + (
        "Its synced mail is being deleted in the background." if delete_mail
        else "Its synced mail was kept for the people who could read it."))
    return redirect(LIST)


@admin_required
@require_POST
def connect_system_mailbox(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Office 365: Connect = sign in at Microsoft, through the one Redirect URI, as the mailbox's
    own account, or, for a shared mailbox, as a delegate who holds Full Access on it (any such
    person: Reconnect with another delegate is the same). The flow carries the mailbox's id and
    only an administrator may finish it."""
    mailbox = _system_mailbox(pk)
    page = reverse("mailbox-settings:system-mailbox", args=[pk])
    config = load_config()
    if not config.email_sync_enabled:
        messages.error(request, "Office 365 is not available: enable it in Microsoft Settings first.")
        return redirect(page)
    if mailbox.account_type == Mailbox.AccountType.OFFICE365_SHARED:
        return flows.start(request, SYSTEM_DELEGATE_CONNECT, mail_scopes(), failure_page=page,
                           failure="Could not start the connection.", login_hint=request.user.email,
                           config=config, mailbox_id=mailbox.pk, shared=mailbox.email_address)
    return flows.start(request, SYSTEM_CONNECT, mail_scopes(), failure_page=page,
                       failure="Could not start the connection.", login_hint=mailbox.email_address, config=config,
                       mailbox_id=mailbox.pk)
