"""The one Redirect URI, and the Microsoft Settings page (System > Configuration > Integrations)."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.configuration import store
from inboxbridge.microsoft import actions, certificates, flows
from inboxbridge.microsoft.config import CREDENTIALS, load_config, mail_scopes, required_permissions
from inboxbridge.microsoft.errors import MicrosoftError
from inboxbridge.microsoft.forms import (
    CertificateGenerateForm,
    CertificateUploadForm,
    MicrosoftSettingsForm,
    tenant_warning,
)
from inboxbridge.microsoft.settings_flows import ADMIN_CONSENT, INTEGRATION_CHECK, SETTINGS_PAGE

logger = logging.getLogger(__name__)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The one Redirect URI. Finds the pending flow by `state` in this session and hands over."""
    pending = flows.take(request, request.GET.get("state", ""))
    if pending is None:
        logger.warning("Refused an OAuth callback with an unknown, used or foreign state")
        return refused(
            request,
            "This sign-in answer does not belong to a sign-in started in this browser session, has already "
            "been used, or has expired. Nothing was changed. Start again from the page you came from.",
        )
    handler = flows.handler_for(pending.kind)
    if handler is None:
        messages.error(request, "This kind of authorization is no longer supported. Nothing was changed.")
        return redirect("home")
    auth_response = {key: str(value) for key, value in request.GET.items()}
    try:
        return handler(request, pending, auth_response)
    except MicrosoftError as error:
        # Each flow explains its own refusals; this catches one a flow let through, so that a hostile
        # or malformed answer is refused with its reason instead of a server error.
        logger.warning("A %s flow let a refusal through: %s", pending.kind, error.error)
        return refused(request, f"Microsoft's answer was refused. {error.message}")


def refused(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "microsoft/callback_refused.html", {"reason": reason}, status=400)


# -- Microsoft Settings ------------------------------------------------------------------------


def _field(option: store.Option) -> str:
    """The form field of a credential option: "microsoft.client_id" -> "client_id"."""
    return option.key.split(".", 1)[1]


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
def settings_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = MicrosoftSettingsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changed = actions.save_microsoft_settings(
                request.user,
                values={o.key: data[_field(o)] for o in CREDENTIALS},
                use_default={o.key: data[_field(o) + "_use_default"] for o in CREDENTIALS},
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
    return _page(request, form=form)


def _page(
    request: HttpRequest,
    *,
    form: MicrosoftSettingsForm | None = None,
    upload_form: CertificateUploadForm | None = None,
    generate_form: CertificateGenerateForm | None = None,
) -> HttpResponse:
    config = load_config()
    uri = flows.redirect_uri(request)
    context = {
        "form": form or MicrosoftSettingsForm(initial={"client_id": config.client_id, "tenant_id": config.tenant_id}),
        "upload_form": upload_form or CertificateUploadForm(),
        "generate_form": generate_form or CertificateGenerateForm(),
        "certificate": certificates.describe(config.certificate_pem) if config.uses_certificate else None,
        "config": config,
        "redirect_uri": uri,
        "redirect_uri_problem": _redirect_uri_problem(uri),
        "secret_is_set": bool(config.client_secret),
        # Ticked only when a deployment default exists to fall back to; otherwise the field stays editable.
        "uses_default": {_field(o): store.uses_default(o) and bool(o.default()) for o in CREDENTIALS},
        "tenant_warning": tenant_warning(config.tenant_id),
        "permissions": required_permissions(),
    }
    # A refused certificate upload or generation answers 400; the settings form keeps its 200.
    status = 400 if any(f is not None and f.errors for f in (upload_form, generate_form)) else 200
    return render(request, "microsoft/settings.html", context, status=status)


@admin_required
@require_POST
def upload_certificate(request: HttpRequest) -> HttpResponse:
    upload_form = CertificateUploadForm(request.POST, request.FILES)
    if not upload_form.is_valid():
        return _page(request, upload_form=upload_form)
    info = actions.save_certificate(request.user, upload_form.cleaned_data["credential"], how="uploaded")
    messages.success(request, f"Certificate saved (thumbprint {info.sha1_thumbprint}): it is used instead of the "
                              "client secret from now on. Click Enable to check it with Microsoft.")
    return redirect(SETTINGS_PAGE)


@admin_required
@require_POST
def generate_certificate(request: HttpRequest) -> HttpResponse:
    generate_form = CertificateGenerateForm(request.POST)
    if not generate_form.is_valid():
        return _page(request, generate_form=generate_form)
    data = generate_form.cleaned_data
    credential = certificates.generate(data["common_name"], data["validity_days"])
    info = actions.save_certificate(request.user, credential, how="generated")
    messages.success(request, f"A key pair was generated (thumbprint {info.sha1_thumbprint}). Download the public "
                              "certificate and upload it under Certificates & secrets > Certificates in Azure, "
                              "then click Enable.")
    return redirect(SETTINGS_PAGE)


@admin_required
@require_GET
def download_certificate(request: HttpRequest, fmt: str) -> HttpResponse:
    """The public certificate only (.cer is DER, .pem is text): what Azure's upload takes."""
    config = load_config()
    if fmt not in ("cer", "pem") or not config.uses_certificate:
        raise Http404("No certificate is configured.")
    if fmt == "cer":
        body, content_type = certificates.public_der(config.certificate_pem), "application/pkix-cert"
    else:
        body, content_type = config.certificate_pem.encode("ascii"), "application/x-pem-file"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="inboxbridge-{config.client_id or "app"}.{fmt}"'
    return response


@admin_required
@require_POST
def remove_certificate(request: HttpRequest) -> HttpResponse:
    if actions.remove_certificate(request.user):
        messages.warning(request, "The certificate was removed: the client secret is used again.")
    return redirect(SETTINGS_PAGE)


@admin_required
@require_POST
def enable_email_sync(request: HttpRequest) -> HttpResponse:
    """Enable: one sign-in at Microsoft proves the settings (settings_flows finishes it)."""
    config = load_config()
    if not config.is_complete:
        messages.error(request, "Save the Application (client) ID, a Client Secret or certificate, and the "
                                "Directory (tenant) ID first.")
        return redirect(SETTINGS_PAGE)
    return flows.start(request, INTEGRATION_CHECK, mail_scopes(), failure_page=SETTINGS_PAGE,
                       failure="Authorization could not start.", config=config, fingerprint=config.fingerprint)


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
    """Send a tenant administrator to Microsoft's admin consent page. A POST: it adds a pending flow
    to the session, which no link on another page (or in a message) may do."""
    config = load_config()
    if not (config.client_id and config.tenant_id):
        messages.error(request, "Save the Application (client) ID and Directory (tenant) ID first.")
        return redirect(SETTINGS_PAGE)
    return flows.start_admin_consent(request, ADMIN_CONSENT, config)
