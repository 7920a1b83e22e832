"""The Microsoft integration's settings (Microsoft Settings page) and its effective configuration, as
every flow and worker sees it.

The options live in the generic settings store (`configuration.store`) under the keys they have
always had, so values saved before this module owned them are still found.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser

from inboxbridge.configuration import store
from inboxbridge.configuration.actions import set_option
from inboxbridge.configuration.store import Option

CLIENT_ID = Option("microsoft.client_id", "Application (client) ID", "MICROSOFT_CLIENT_ID")
CLIENT_SECRET = Option("microsoft.client_secret", "Client Secret", "MICROSOFT_CLIENT_SECRET", secret=True)
TENANT_ID = Option("microsoft.tenant_id", "Directory (tenant) ID", "MICROSOFT_TENANT_ID")
EMAIL_SYNC_ENABLED = Option("microsoft.email_sync_enabled", "oAuth 2.0 for Office 365 emails sync")
# Fingerprint of the credentials last proven by a successful authorization.
VERIFIED_FINGERPRINT = Option("microsoft.verified_fingerprint", "Verified credentials")
# The certificate credential: the public certificate in plain text, its private key encrypted.
CERTIFICATE = Option("microsoft.certificate", "Certificate")
CERTIFICATE_KEY = Option("microsoft.certificate_key", "Certificate private key", secret=True)
# Fingerprint of the credentials Microsoft last answered AADSTS7000222 (secret expired) for.
SECRET_EXPIRED_FINGERPRINT = Option("microsoft.secret_expired_fingerprint", "Client secret expired")
# The Object ID of the app's Enterprise application (its service principal), which Exchange Online
# needs to grant app-only access; not the app registration's Object ID. Only for the PowerShell shown.
ENTERPRISE_APP_OBJECT_ID = Option("microsoft.enterprise_app_object_id", "Enterprise application Object ID")

# The three fields of the settings form, each with "Use Default".
CREDENTIALS = (CLIENT_ID, CLIENT_SECRET, TENANT_ID)


@dataclass(frozen=True)
class MicrosoftConfig:
    client_id: str
    client_secret: str
    tenant_id: str
    authority_host: str
    email_sync_enabled: bool
    verified_fingerprint: str
    certificate_pem: str = ""
    private_key_pem: str = ""
    secret_expired_fingerprint: str = ""

    @property
    def uses_certificate(self) -> bool:
        """A configured certificate wins over the client secret (Microsoft's recommendation)."""
        return bool(self.certificate_pem and self.private_key_pem)

    @property
    def is_complete(self) -> bool:
        return bool(self.client_id and (self.client_secret or self.uses_certificate) and self.tenant_id)

    @property
    def secret_reported_expired(self) -> bool:
        """Microsoft refused this very secret as expired (AADSTS7000222); a new one clears it."""
        return not self.uses_certificate and self.secret_expired_fingerprint == self.fingerprint

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def fingerprint(self) -> str:
        """Changes whenever client id, secret or tenant change; stored next to token caches so a
        change invalidates cached access tokens. A hash, so the secret itself is never stored twice."""
        parts = [self.authority_host, self.client_id, self.client_secret, self.tenant_id]
        if self.uses_certificate:  # only then, so that the fingerprints of secret-only setups stay the same
            parts.append(self.certificate_pem)
        material = "\x00".join(parts)
        return hashlib.sha256(material.encode()).hexdigest()[:32]

    @property
    def credentials_verified(self) -> bool:
        return self.is_complete and self.verified_fingerprint == self.fingerprint

    def __repr__(self) -> str:  # keeps the secret out of tracebacks and debug output
        return (f"MicrosoftConfig(client_id={self.client_id!r}, tenant_id={self.tenant_id!r}, secret=***, "
                f"certificate={self.uses_certificate})")


def load_config() -> MicrosoftConfig:
    values = store.get_many((
        CLIENT_ID, CLIENT_SECRET, TENANT_ID, EMAIL_SYNC_ENABLED, VERIFIED_FINGERPRINT,
        CERTIFICATE, CERTIFICATE_KEY, SECRET_EXPIRED_FINGERPRINT,
    ))
    return MicrosoftConfig(
        client_id=values[CLIENT_ID.key],
        client_secret=values[CLIENT_SECRET.key],
        tenant_id=values[TENANT_ID.key],
        authority_host=settings.MICROSOFT_AUTHORITY_HOST,
        email_sync_enabled=values[EMAIL_SYNC_ENABLED.key] == "1",
        verified_fingerprint=values[VERIFIED_FINGERPRINT.key],
        certificate_pem=values[CERTIFICATE.key],
        private_key_pem=values[CERTIFICATE_KEY.key],
        secret_expired_fingerprint=values[SECRET_EXPIRED_FINGERPRINT.key],
    )


def remember_secret_expired(config: MicrosoftConfig) -> None:
    """Microsoft answered AADSTS7000222 for this configuration's secret: keep it, so that
    administrators see an alert until the secret (or the credential) changes."""
    if config.secret_expired_fingerprint != config.fingerprint:
        set_option(SECRET_EXPIRED_FINGERPRINT, config.fingerprint, AnonymousUser())


def office365_enabled() -> bool:
    """Whether Office 365 mailboxes may sync and send ("oAuth 2.0 for Office 365 emails sync" on the
    Microsoft Settings page); switching it off pauses them without touching them."""
    return load_config().email_sync_enabled


def mail_scopes() -> list[str]:
    """The delegated permissions the product asks for; MSAL adds openid, profile, offline_access."""
    resource = settings.MICROSOFT_MAIL_RESOURCE.rstrip("/")
    return [f"{resource}/IMAP.AccessAsUser.All", f"{resource}/POP.AccessAsUser.All", f"{resource}/SMTP.Send"]


def required_permissions() -> list[tuple[str, str]]:
    """What the Azure app registration must grant (API permissions page), with why."""
    return [
        ("IMAP.AccessAsUser.All", "Read and synchronize mailboxes over IMAP"),
        ("POP.AccessAsUser.All", "Access mailboxes over POP (asked with IMAP so one consent covers both)"),
        ("SMTP.Send", "Send mail through SMTP as the connected user"),
        ("offline_access", "Keep access without the user present (refresh tokens)"),
        ("openid", "Sign users in"),
        ("profile", "Read the user's basic profile (name, object id)"),
        ("email", "Read the user's email address"),
    ]


# App-only access (client credentials): Exchange Online's resource, as Microsoft's IMAP/POP/SMTP
# OAuth guide names it for this flow. A client-credentials request asks for `<resource>/.default`:
# the token then carries, in `roles`, the application permissions an administrator consented to.
APP_MAIL_RESOURCE = "https://outlook.office365.com"
APP_IMAP_ROLE = "IMAP.AccessAsApp"
APP_SMTP_ROLE = "SMTP.SendAsApp"


def app_mail_scopes() -> list[str]:
    return [f"{APP_MAIL_RESOURCE}/.default"]


def app_permissions() -> list[tuple[str, str]]:
    """The application permissions of "Office 365 Exchange Online" that app-only mailboxes need."""
    return [
        (APP_IMAP_ROLE, "Read and synchronize the mailboxes Exchange grants the app (FullAccess)"),
        (APP_SMTP_ROLE, "Send from those mailboxes through SMTP (with Send As)"),
        ("POP.AccessAsApp", "Optional: the same over POP; inboxbridge does not use POP"),
    ]
