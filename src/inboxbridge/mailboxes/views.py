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
from inboxbridge.mailboxes import actions, options, queries, server_check, server_policy
from inboxbridge.mailboxes.credentials import imap_login, provider_for
from inboxbridge.mailboxes.flows import CONNECT, SHARED_CONNECT
from inboxbridge.mailboxes.forms import FolderSelectionForm, OtherAccountForm, OtherMailServersForm, SharedMailboxForm
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tokens import MailboxUnavailable
from inboxbridge.mailserver.failures import imap_failure_text
from inboxbridge.mailserver.imap import ImapError, list_folders
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.config import MicrosoftConfig, load_config, mail_scopes
from inboxbridge.microsoft.errors import MicrosoftError

PAGE = "mailboxes:email-configuration"
# The kinds a user adds in Email Configuration: their own Office 365 mailbox, a shared mailbox they
# hold Full Access on (they sign in as themselves), an Other account.
OFFICE365, SHARED, OTHER = (Mailbox.AccountType.OFFICE365, Mailbox.AccountType.OFFICE365_SHARED,
                            Mailbox.AccountType.OTHER)


@login_required
def email_configuration(request: AuthenticatedRequest) -> HttpResponse:
    """The user's mailboxes, each with its state and a link to its settings, and Add a mailbox."""
    return _list_page(request, request.GET.get("type", ""))


def _list_page(request: AuthenticatedRequest, account_type: str, *, other_form: OtherAccountForm | None = None,
               shared_form: SharedMailboxForm | None = None, status: int = 200) -> HttpResponse:
    office365_available = load_config().email_sync_enabled
    other_available = server_policy.other_accounts_enabled()
    if account_type in {OFFICE365, SHARED} and not office365_available:
        account_type = ""
    if account_type == OTHER and not other_available:
        account_type = ""
    return render(request, "mailboxes/email_configuration.html", {
        "mailboxes": list(queries.own_mailboxes(request.user)),
        "account_type": account_type,
        "office365_available": office365_available,
        "other_disabled": "" if other_available else server_policy.DISABLED_MESSAGE,
        "allowed_servers": server_policy.allowed_patterns() if other_available else [],
        "other_form": other_form or OtherAccountForm(),
        "shared_form": shared_form or SharedMailboxForm(),
    }, status=status)


def office365_config(request: AuthenticatedRequest) -> MicrosoftConfig | None:
    """The Microsoft settings when Office 365 may be connected; None (with the reason shown) when not."""
    config = load_config()
    if config.email_sync_enabled:
        return config
    messages.error(request, "Office 365 is not available: an administrator has to enable it in Microsoft Settings.")
    return None


@login_required
@require_POST
def connect(request: AuthenticatedRequest) -> HttpResponse:
    """Connect an Office 365 mailbox of the user's own: the authorization-code flow through the one Redirect URI."""
    if (config := office365_config(request)) is None:
        return redirect(PAGE)
    return flows.start(request, CONNECT, mail_scopes(), failure_page=PAGE, failure="Could not start the connection.",
                       login_hint=getattr(request.user, "email", ""), config=config)


@login_required
@require_POST
def connect_shared(request: AuthenticatedRequest) -> HttpResponse:
    """Connect a shared mailbox the user holds Full Access on: they sign in as themselves."""
    if (config := office365_config(request)) is None:
        return redirect(PAGE)
    form = SharedMailboxForm(request.POST, user=request.user)
    if not form.is_valid():
        return _list_page(request, SHARED, shared_form=form, status=400)
    return flows.start(request, SHARED_CONNECT, mail_scopes(), failure_page=PAGE,
                       failure="Could not start the connection.", login_hint=getattr(request.user, "email", ""),
                       config=config, shared=form.cleaned_data["shared_address"])


@login_required
@require_POST
def save_other(request: AuthenticatedRequest) -> HttpResponse:
    """Add an Other account (IMAP and SMTP with a password), checked against its servers first."""
    if not server_policy.other_accounts_enabled():
        messages.error(request, server_policy.DISABLED_MESSAGE)
        return redirect(PAGE)
    form = OtherAccountForm(request.POST, owner=request.user)
    status = checked_other_account(request, form)
    if status is None:
        mailbox = actions.save_other_account(request.user, **form.cleaned_data).mailbox
        messages.success(request, "The mailbox settings were checked and saved.")
        return redirect("mailboxes:mailbox", pk=mailbox.pk)
    return _list_page(request, OTHER, other_form=form, status=status)


def other_initial(mailbox: Mailbox) -> dict[str, object]:
    """The Other account form's fields as saved (never the password)."""
    return {name: getattr(mailbox, name) for name in (
        "email_address", "imap_host", "imap_port", "imap_ssl", "smtp_host", "smtp_port", "smtp_security", "username",
    )}


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
