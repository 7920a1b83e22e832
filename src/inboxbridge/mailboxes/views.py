from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.configuration import store
from inboxbridge.mailboxes import actions, options, server_check, server_policy
from inboxbridge.mailboxes.credentials import imap_login, provider_for
from inboxbridge.mailboxes.flows import CONNECT
from inboxbridge.mailboxes.forms import FolderSelectionForm, OtherAccountForm, OtherMailServersForm, folder_depth
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tasks import purge_on_commit
from inboxbridge.mailboxes.tokens import MailboxUnavailable
from inboxbridge.mailserver.failures import imap_failure_text
from inboxbridge.mailserver.imap import ImapError, list_folders
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import load_config, mail_scopes
from inboxbridge.microsoft.errors import MicrosoftError

PAGE = "mailboxes:email-configuration"


@login_required
def email_configuration(request: AuthenticatedRequest) -> HttpResponse:
    mailbox = actions.active_mailbox_of(request.user)
    config = load_config()
    account_type = request.GET.get("type") or (mailbox.account_type if mailbox else "")
    if account_type == Mailbox.AccountType.OFFICE365 and not config.email_sync_enabled and not mailbox:
        account_type = ""
    other_available = server_policy.other_accounts_enabled()
    if account_type == Mailbox.AccountType.OTHER and not other_available and not (
            mailbox and mailbox.account_type == Mailbox.AccountType.OTHER):
        account_type = ""
    other_form = OtherAccountForm(initial=_other_initial(mailbox))
    folders = list(mailbox.folders.filter(exists_on_server=True)) if mailbox else []
    folder_form = FolderSelectionForm(
        folders=folders,
        initial={"folders": [f.pk for f in folders if f.selected],
                 "initial_sync_days": mailbox.initial_sync_days if mailbox else None},
    )
    return render(request, "mailboxes/email_configuration.html", {
        "mailbox": mailbox,
        "account_type": account_type,
        "office365_available": config.email_sync_enabled,
        "other_disabled": "" if other_available else server_policy.DISABLED_MESSAGE,
        "allowed_servers": server_policy.allowed_patterns() if other_available else [],
        "other_form": other_form,
        "folder_form": folder_form,
        "folder_rows": [(f, folder_depth(f)) for f in folders],
    })


def _other_initial(mailbox: Mailbox | None) -> dict[str, object]:
    if mailbox is None or mailbox.account_type != Mailbox.AccountType.OTHER:
        return {}
    return {name: getattr(mailbox, name) for name in (
        "email_address", "imap_host", "imap_port", "imap_ssl", "smtp_host", "smtp_port", "smtp_security", "username",
    )}


@login_required
@require_POST
def connect(request: AuthenticatedRequest) -> HttpResponse:
    """Connect or Reconnect: the authorization-code flow through the one Redirect URI."""
    config = load_config()
    if not config.email_sync_enabled:
        messages.error(request, "Office 365 is not available: an administrator has to enable it in Microsoft Settings.")
        return redirect(PAGE)
    mailbox = actions.active_mailbox_of(request.user)
    hint = mailbox.email_address if mailbox and mailbox.account_type == Mailbox.AccountType.OFFICE365 else ""
    return flows.start(request, CONNECT, mail_scopes(), failure_page=PAGE, failure="Could not start the connection.",
                       login_hint=hint or getattr(request.user, "email", ""), config=config)


@login_required
@require_POST
def disconnect(request: AuthenticatedRequest) -> HttpResponse:
    mailbox = actions.active_mailbox_of(request.user)
    if mailbox is None:
        return redirect(PAGE)
    delete_mail = request.POST.get("mail") == "delete"
    purge_on_commit(actions.disconnect_mailbox(request.user, mailbox, delete_mail=delete_mail))
    messages.success(
        request,
        f"{mailbox.email_address} is disconnected. "
        + ("Its synced mail is being deleted in the background." if delete_mail else "Its synced mail was kept."),
    )
    return redirect(PAGE)


@login_required
@require_POST
def save_other(request: AuthenticatedRequest) -> HttpResponse:
    if not server_policy.other_accounts_enabled():
        messages.error(request, server_policy.DISABLED_MESSAGE)
        return redirect(PAGE)
    mailbox = actions.active_mailbox_of(request.user)
    saved = mailbox if mailbox and mailbox.account_type == Mailbox.AccountType.OTHER else None
    form = OtherAccountForm(request.POST, saved=saved)
    status = checked_other_account(request, form)
    if status is None:
        purge_on_commit(actions.save_other_account(request.user, **form.cleaned_data))
        messages.success(request, "The mailbox settings were checked and saved.")
        return redirect(PAGE)
    return render(request, "mailboxes/email_configuration.html", {
        "mailbox": mailbox, "account_type": "other", "office365_available": load_config().email_sync_enabled,
        "other_disabled": "", "allowed_servers": server_policy.allowed_patterns(),
        "other_form": form, "folder_form": None, "folder_rows": [],
    }, status=status)


def checked_other_account(request: AuthenticatedRequest, form: OtherAccountForm) -> int | None:
    """None when the submitted Other account is valid and its servers accepted the login (within
    the user's rate limit); otherwise the HTTP status to answer, with the reason added to the form."""
    if not form.is_valid():
        return 400
    if limited := server_check.rate_limit_problem(request.user):
        form.add_error(None, limited)
        return 429
    if problem := server_check.check_servers(request.user, form.candidate()):
        form.add_error(None, problem)
        return 400
    return None


@login_required
@require_POST
def retrieve_folders(request: AuthenticatedRequest) -> HttpResponse:
    mailbox = actions.active_mailbox_of(request.user)
    if mailbox is None:
        return redirect(PAGE)
    return retrieve_folders_of(request, mailbox, redirect(PAGE))


def retrieve_folders_of(request: AuthenticatedRequest, mailbox: Mailbox, done: HttpResponse) -> HttpResponse:
    """Retrieve Folders for `mailbox` (a user's own or a system mailbox), then answer `done`."""
    try:
        login = imap_login(mailbox)
    except (MicrosoftError, MailboxUnavailable) as error:
        messages.error(request, f"The folders could not be retrieved. {error}")
        return done
    try:
        remote = list_folders(login)
    except ImapError as error:
        # A server its user typed could be anything: its words are not repeated here.
        text = imap_failure_text(error, login, settings.MAIL_NETWORK_TIMEOUT) \
            if provider_for(mailbox).servers_typed_by_user else str(error)
        messages.error(request, f"The folders could not be retrieved. {text}")
        return done
    folders = actions.update_folders(
        mailbox, [(f.name, f.display_name, f.delimiter, f.special_use) for f in remote if f.selectable]
    )
    messages.success(request, f"Retrieved {len(folders)} folders. Tick the ones to synchronize and click Save.")
    return done


@login_required
@require_POST
def save_folders(request: AuthenticatedRequest) -> HttpResponse:
    mailbox = actions.active_mailbox_of(request.user)
    if mailbox is None:
        return redirect(PAGE)
    return save_folders_of(request, mailbox, redirect(PAGE))


def save_folders_of(request: AuthenticatedRequest, mailbox: Mailbox, done: HttpResponse) -> HttpResponse:
    """The folder checkboxes, the start of the sync and the Sent folder of `mailbox`, then answer `done`."""
    form = FolderSelectionForm(request.POST, folders=list(mailbox.folders.filter(exists_on_server=True)),
                               mailbox=mailbox)
    if not form.is_valid():
        messages.error(request, form.refusal())
        return done
    data = form.cleaned_data
    actions.select_folders(request.user, mailbox, data["folders"], data["initial_sync_days"],
                           sync_from=data["sync_from"], sent_folder_name=data["sent_folder"])
    messages.success(request, "Folder selection saved. Synchronization starts shortly.")
    return done


@admin_required
def other_mail_servers(request: AuthenticatedRequest) -> HttpResponse:
    """Whether users may add Other (IMAP/SMTP) accounts, and to which servers."""
    if request.method == "POST":
        form = OtherMailServersForm(request.POST)
        if form.is_valid():
            changed = actions.save_other_accounts_settings(request.user, **form.cleaned_data)
            messages.success(request, f"Settings saved: {', '.join(changed)}." if changed else "Nothing changed.")
            if refused := server_policy.refused_account_count():
                messages.warning(request, f"Connected Other accounts these settings stop from synchronizing and "
                                          f"sending: {refused}. Their owners see why in Email Configuration.")
            return redirect("mailbox-settings:other-mail-servers")
    else:
        form = OtherMailServersForm(initial={"enabled": server_policy.other_accounts_enabled(),
                                             "allowed_hosts": store.get(options.OTHER_ACCOUNTS_ALLOWED_HOSTS)})
    return render(request, "mailboxes/other_mail_servers.html", {
        "form": form, "private_allowed": settings.ALLOW_PRIVATE_MAIL_HOSTS,
        "check_limit": settings.MAIL_CHECKS_PER_10_MINUTES, "check_timeout": settings.MAIL_CHECK_TIMEOUT,
    })
