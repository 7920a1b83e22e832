"""One of a user's own mailboxes in My Configuration > Email Configuration: its connected account,
state, Reconnect and Disconnect, its Other account settings and its folders. Every URL carries the
mailbox's id and answers 404 for a mailbox that is not the user's own."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mailboxes import actions, queries, server_policy, views
from inboxbridge.mailboxes.flows import CONNECT, SHARED_CONNECT
from inboxbridge.mailboxes.forms import FolderSelectionForm, OtherAccountForm, folder_depth
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tasks import purge_on_commit
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import mail_scopes

PAGE = "mailboxes:mailbox"
START_FAILED = "Could not start the connection."


def _own(request: AuthenticatedRequest, pk: int) -> Mailbox:
    return get_object_or_404(queries.own_mailboxes(request.user), pk=pk)


@login_required
def mailbox_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _page(request, _own(request, pk))


def _page(request: AuthenticatedRequest, mailbox: Mailbox, other_form: OtherAccountForm | None = None, *,
          status: int = 200) -> HttpResponse:
    folders = list(mailbox.folders.filter(exists_on_server=True))
    other_available = server_policy.other_accounts_enabled()
    context: dict[str, object] = {
        "mailbox": mailbox,
        # The form reads the mailbox's saved Sync mail from and Sent folder itself.
        "folder_form": FolderSelectionForm(folders=folders, mailbox=mailbox,
                                           initial={"folders": [f.pk for f in folders if f.selected]}),
        "folder_rows": [(f, folder_depth(f)) for f in folders],
    }
    if mailbox.account_type == Mailbox.AccountType.OTHER:
        context |= {
            "other_form": other_form or OtherAccountForm(initial=views.other_initial(mailbox)),
            "other_disabled": "" if other_available else server_policy.DISABLED_MESSAGE,
            "allowed_servers": server_policy.allowed_patterns() if other_available else [],
        }
    return render(request, "mailboxes/mailbox.html", context, status=status)


@login_required
@require_POST
def reconnect(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Office 365: sign in again; for a shared mailbox as a delegate who holds Full Access on it
    (the user themselves)."""
    mailbox = _own(request, pk)
    page = reverse(PAGE, args=[mailbox.pk])
    if not mailbox.is_office365 or (config := views.office365_config(request)) is None:
        return redirect(page)
    if mailbox.account_type == Mailbox.AccountType.OFFICE365_SHARED:
        return flows.start(request, SHARED_CONNECT, mail_scopes(), failure_page=page, failure=START_FAILED,
                           login_hint=mailbox.signed_in_as, config=config, shared=mailbox.email_address,
                           mailbox_id=mailbox.pk)
    return flows.start(request, CONNECT, mail_scopes(), failure_page=page, failure=START_FAILED,
                       login_hint=mailbox.email_address, config=config, mailbox_id=mailbox.pk)


@login_required
@require_POST
def disconnect(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    mailbox = _own(request, pk)
    delete_mail = request.POST.get("mail") == "delete"
    purge_on_commit(actions.disconnect_mailbox(request.user, mailbox, delete_mail=delete_mail))
    messages.success(
        request,
        f"{mailbox.email_address} is disconnected. "
        + ("Its synced mail is being deleted in the background." if delete_mail else "Its synced mail was kept."),
    )
    return redirect(views.PAGE)


@login_required
@require_POST
def save_other(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Change an Other account's settings, checked against its servers first."""
    mailbox = _own(request, pk)
    if mailbox.account_type != Mailbox.AccountType.OTHER:
        raise Http404
    if not server_policy.other_accounts_enabled():
        messages.error(request, server_policy.DISABLED_MESSAGE)
        return redirect(PAGE, pk=pk)
    form = OtherAccountForm(request.POST, saved=mailbox, owner=request.user)
    status = views.checked_other_account(request, form)
    if status is None:
        actions.save_other_account(request.user, mailbox, **form.cleaned_data)
        messages.success(request, "The mailbox settings were checked and saved.")
        return redirect(PAGE, pk=pk)
    return _page(request, mailbox, form, status=status)


@login_required
@require_POST
def retrieve_folders(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return views.retrieve_folders_of(request, _own(request, pk), redirect(PAGE, pk=pk))


@login_required
@require_POST
def save_folders(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return views.save_folders_of(request, _own(request, pk), redirect(PAGE, pk=pk))
