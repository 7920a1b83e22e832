"""System Information and the Other Mail Servers page (System > Configuration)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.configuration import actions, store
from inboxbridge.configuration.forms import OtherMailServersForm
from inboxbridge.configuration.system_info import system_information
from inboxbridge.mailboxes import server_policy


@admin_required
def system_info(request: HttpRequest) -> HttpResponse:
    return render(request, "configuration/system_information.html", {"rows": system_information()})


@admin_required
def other_mail_servers(request: HttpRequest) -> HttpResponse:
    """Whether users may add Other (IMAP/SMTP) accounts, and to which servers."""
    if request.method == "POST":
        form = OtherMailServersForm(request.POST)
        if form.is_valid():
            changed = actions.save_other_accounts_settings(request.user, **form.cleaned_data)
            messages.success(request, f"Settings saved: {', '.join(changed)}." if changed else "Nothing changed.")
            if refused := server_policy.refused_account_count():
                messages.warning(request, f"Connected Other accounts these settings stop from synchronizing and "
                                          f"sending: {refused}. Their owners see why in Email Configuration.")
            return redirect("configuration:other-mail-servers")
    else:
        form = OtherMailServersForm(initial={"enabled": server_policy.other_accounts_enabled(),
                                             "allowed_hosts": store.get(store.OTHER_ACCOUNTS_ALLOWED_HOSTS)})
    return render(request, "configuration/other_mail_servers.html", {
        "form": form, "private_allowed": settings.ALLOW_PRIVATE_MAIL_HOSTS,
        "check_limit": settings.MAIL_CHECKS_PER_10_MINUTES, "check_timeout": settings.MAIL_CHECK_TIMEOUT,
    })
