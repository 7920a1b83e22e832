"""The administrators' alert about the app's credential, on every page before mail stops."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from inboxbridge.microsoft import certificates
from inboxbridge.microsoft.config import MicrosoftConfig, load_config


def credential_alerts(request: HttpRequest) -> dict[str, Any]:
    """For staff only: the certificate expires within 30 days (or has), or Microsoft reported the
    client secret expired (AADSTS7000222)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    alert = credential_alert(load_config())
    return {"microsoft_credential_alert": alert} if alert else {}


def credential_alert(config: MicrosoftConfig) -> str:
    if config.uses_certificate:
        info = certificates.describe(config.certificate_pem)
        if info.expired:
            return (f"The Microsoft application's certificate expired on {info.not_after:%Y-%m-%d}: Office 365 "
                    "mailboxes can no longer sign in. Generate or upload a new certificate and add it in Azure.")
        if info.expires_soon:
            return (f"The Microsoft application's certificate expires on {info.not_after:%Y-%m-%d} (in "
                    f"{info.days_left()} days). Generate or upload a new one and add it in Azure before then, "
                    "or Office 365 mail stops.")
        return ""
    if config.secret_reported_expired:
        return ("Microsoft reported the application's client secret as expired (AADSTS7000222): Office 365 "
                "mailboxes cannot sign in. Save a new secret or a certificate on Microsoft Settings.")
    return ""
