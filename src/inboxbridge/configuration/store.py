"""The layered settings store: a value saved in the back-office, else the deployment default.

The deployment default is a Django setting filled from the environment (see settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from inboxbridge.configuration.models import StoredSetting


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    default_setting: str = ""  # name of the Django setting holding the deployment default
    secret: bool = False

    def default(self) -> str:
        return str(getattr(settings, self.default_setting, "") or "") if self.default_setting else ""


CLIENT_ID = Option("microsoft.client_id", "Application (client) ID", "MICROSOFT_CLIENT_ID")
CLIENT_SECRET = Option("microsoft.client_secret", "Client Secret", "MICROSOFT_CLIENT_SECRET", secret=True)
TENANT_ID = Option("microsoft.tenant_id", "Directory (tenant) ID", "MICROSOFT_TENANT_ID")
EMAIL_SYNC_ENABLED = Option("microsoft.email_sync_enabled", "oAuth 2.0 for Office 365 emails sync")
SIGN_IN_ENABLED = Option("microsoft.sign_in_enabled", "Sign in with Microsoft")
SIGN_IN_DOMAINS = Option("microsoft.sign_in_domains", "Domains whose accounts may link themselves")
# Fingerprint of the credentials last proven by a successful authorization.
VERIFIED_FINGERPRINT = Option("microsoft.verified_fingerprint", "Verified credentials")

MICROSOFT_CREDENTIALS = (CLIENT_ID, CLIENT_SECRET, TENANT_ID)

# "Other" accounts (IMAP/SMTP with a password): whether users may add them, and to which servers.
OTHER_ACCOUNTS_ENABLED = Option("other_accounts.enabled", "Allow Other accounts", "OTHER_ACCOUNTS_ENABLED")
OTHER_ACCOUNTS_ALLOWED_HOSTS = Option("other_accounts.allowed_hosts", "Allowed mail servers",
                                      "OTHER_ACCOUNTS_ALLOWED_HOSTS")


def stored(option: Option) -> StoredSetting | None:
    return StoredSetting.objects.filter(key=option.key).first()


def get(option: Option) -> str:
    row = stored(option)
    if row is None:
        return option.default()
    return row.secret_value if option.secret else row.value


def get_flag(option: Option) -> bool:
    """A yes/no option: stored as "1"/"0"; its deployment default is a boolean setting."""
    return get(option).strip().lower() in {"1", "true"}


def uses_default(option: Option) -> bool:
    return not StoredSetting.objects.filter(key=option.key).exists()


def get_many(options: tuple[Option, ...]) -> dict[str, str]:
    rows = {row.key: row for row in StoredSetting.objects.filter(key__in=[o.key for o in options])}
    values = {}
    for option in options:
        row = rows.get(option.key)
        if row is None:
            values[option.key] = option.default()
        else:
            values[option.key] = row.secret_value if option.secret else row.value
    return values
