"""System > Configuration > Email Configuration > System Mailboxes (administrators): mailboxes with no
owner, read by their Authorized Users and Roles (see mailboxes.queries.visible_mailboxes)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mailboxes import actions
from inboxbridge.mailboxes.forms import SystemMailboxForm
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tasks import purge_on_commit

LIST = "mailbox-settings:system-mailboxes"


def _system_mailbox(pk: int) -> Mailbox:
    return get_object_or_404(Mailbox, pk=pk, owner__isnull=True, active=True)


@admin_required
def system_mailboxes(request: AuthenticatedRequest) -> HttpResponse:
    mailboxes = Mailbox.objects.filter(owner__isnull=True, active=True).order_by("label")
    return render(request, "mailboxes/system_mailboxes.html", {"mailboxes": mailboxes})


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
    status = 400 if request.method == "POST" else 200
    return render(request, "mailboxes/system_mailbox.html", {"form": form, "mailbox": mailbox}, status=status)


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
