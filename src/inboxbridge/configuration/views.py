from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.configuration import actions, store
from inboxbridge.configuration.forms import MicrosoftSettingsForm, OtherMailServersForm, tenant_warning
from inboxbridge.configuration.system_info import system_information
from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.config import load_config, mail_scopes, required_permissions
from inboxbridge.microsoft.errors import MicrosoftError

SETTINGS_PAGE = "configuration:microsoft"


def _redirect_uri_problem(uri: str) -> str:
    if uri.startswith("http://") and not any(
        uri.startswith(f"http://{host}") for host in ("localhost", "127.0.0.1", "[::1]")
    ):
        return (
            "Microsoft Entra ID accepts http:// Redirect URIs only for localhost. Serve inboxbridge over "
            "https and set INBOXBRIDGE_BASE_URL (or INBOXBRIDGE_BEHIND_PROXY behind a TLS proxy)."
        )
    return ""


@admin_required
def microsoft_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = MicrosoftSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changed = actions.save_microsoft_settings(
                request.user,
                values={o.key: data[o.key.split(".", 1)[1]] for o in store.MICROSOFT_CREDENTIALS},
                use_default={o.key: data[o.key.split(".", 1)[1] + "_use_default"] for o in store.MICROSOFT_CREDENTIALS},
            )
            if changed:
                messages.success(request, "Settings saved: " + ", ".join(changed) + ".")
            else:
                messages.info(request, "Nothing changed.")
            if warning := tenant_warning(load_config().tenant_id):
                messages.warning(request, warning)
            return redirect(SETTINGS_PAGE)
    else:
        config = load_config()
        form = MicrosoftSettingsForm(initial={"client_id": config.client_id, "tenant_id": config.tenant_id})
    config = load_config()
    uri = flows.redirect_uri(request)
    context = {
        "form": form,
        "config": config,
        "redirect_uri": uri,
        "redirect_uri_problem": _redirect_uri_problem(uri),
        "secret_is_set": bool(config.client_secret),
        # Ticked only when a deployment default exists to fall back to; otherwise the field stays editable.
        "uses_default": {
            o.key.split(".", 1)[1]: store.uses_default(o) and bool(o.default()) for o in store.MICROSOFT_CREDENTIALS
        },
        "tenant_warning": tenant_warning(config.tenant_id),
        "permissions": required_permissions(),
    }
    return render(request, "configuration/microsoft_settings.html", context)


@admin_required
@require_POST
def enable_email_sync(request: HttpRequest) -> HttpResponse:
    config = load_config()
    if not config.is_complete:
        messages.error(request, "Save the Application (client) ID, Client Secret and Directory (tenant) ID first.")
        return redirect(SETTINGS_PAGE)
    try:
        flow = client.start_flow(config, mail_scopes(), flows.redirect_uri(request))
    except MicrosoftError as error:
        messages.error(request, f"Authorization could not start. {error.message}")
        return redirect(SETTINGS_PAGE)
    flows.remember(request, "integration_check", flow, fingerprint=config.fingerprint)
    return redirect(flow["auth_uri"])


@admin_required
@require_POST
def disable_email_sync(request: HttpRequest) -> HttpResponse:
    actions.disable_email_sync(request.user)
    messages.warning(
        request,
        "oAuth 2.0 for Office 365 emails sync is disabled: Office 365 mailboxes will not synchronize "
        "until it is enabled again.",
    )
    return redirect(SETTINGS_PAGE)


@admin_required
@require_POST
def admin_consent(request: HttpRequest) -> HttpResponse:
    """Send a tenant administrator to Microsoft's admin consent page; the answer returns to the one
    Redirect URI with a state this session holds. A POST: it replaces the session's pending flow, which
    no link on another page (or in a message) may do."""
    from urllib.parse import urlencode

    config = load_config()
    if not (config.client_id and config.tenant_id):
        messages.error(request, "Save the Application (client) ID and Directory (tenant) ID first.")
        return redirect(SETTINGS_PAGE)
    state = secrets.token_urlsafe(24)
    flows.remember(request, "admin_consent", {"state": state})
    query = urlencode({
        "client_id": config.client_id,
        "scope": " ".join([*mail_scopes(), "offline_access", "openid", "profile", "email"]),
        "redirect_uri": flows.redirect_uri(request),
        "state": state,
    })
    return redirect(f"{config.authority}/v2.0/adminconsent?{query}")


@admin_required
def system_info(request: HttpRequest) -> HttpResponse:
    return render(request, "configuration/system_information.html", {"rows": system_information()})


@admin_required
def other_mail_servers(request: HttpRequest) -> HttpResponse:
    """Whether users may add Other (IMAP/SMTP) accounts, and to which servers."""
    from django.conf import settings

    from inboxbridge.mailboxes import server_policy

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
