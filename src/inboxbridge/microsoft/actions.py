"""Writes of Microsoft Settings: each one transaction, each audited (never with a secret's value)."""

from __future__ import annotations

from django.db import transaction

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration import store
from inboxbridge.configuration.actions import User, clear_option, set_option
from inboxbridge.microsoft import certificates
from inboxbridge.microsoft.certificates import CertificateCredential, CertificateInfo
from inboxbridge.microsoft.config import (
    CERTIFICATE,
    CERTIFICATE_KEY,
    CREDENTIALS,
    EMAIL_SYNC_ENABLED,
    ENTERPRISE_APP_OBJECT_ID,
    VERIFIED_FINGERPRINT,
)


@transaction.atomic
def save_microsoft_settings(
    actor: User, *, values: dict[str, str], use_default: dict[str, bool]
) -> list[str]:
    """Store the submitted credentials; returns the labels of the fields that changed.

    An empty secret field means "keep the stored secret" (the page never shows it back).
    """
    changed: list[str] = []
    for option in CREDENTIALS:
        if use_default.get(option.key):
            if clear_option(option):
                changed.append(option.label)
                record_audit_event(actor, "microsoft_settings.use_default", option.label)
            continue
        old = store.stored_value(option)
        new = values.get(option.key, "")
        if not new and (option.secret or old is None):
            continue  # an empty secret field keeps the stored secret; an empty new field keeps the default
        if new == old:
            continue
        set_option(option, new, actor)
        changed.append(option.label)
        detail: dict[str, object] = {"change": "set"} if option.secret else {"old": old, "new": new}
        record_audit_event(actor, "microsoft_settings.changed", option.label, **detail)
    return changed


@transaction.atomic
def enable_email_sync(actor: User, fingerprint: str) -> None:
    set_option(EMAIL_SYNC_ENABLED, "1", actor)
    set_option(VERIFIED_FINGERPRINT, fingerprint, actor)
    record_audit_event(actor, "microsoft_settings.enabled", EMAIL_SYNC_ENABLED.label)


@transaction.atomic
def disable_email_sync(actor: User) -> None:
    set_option(EMAIL_SYNC_ENABLED, "0", actor)
    record_audit_event(actor, "microsoft_settings.disabled", EMAIL_SYNC_ENABLED.label)


@transaction.atomic
def save_certificate(actor: User, credential: CertificateCredential, *, how: str) -> CertificateInfo:
    """Use this certificate (uploaded or generated) instead of the client secret from now on.
    Audited with its thumbprint, never with the key."""
    set_option(CERTIFICATE, credential.certificate_pem, actor)
    set_option(CERTIFICATE_KEY, credential.private_key_pem, actor)
    info = certificates.describe(credential.certificate_pem)
    record_audit_event(actor, f"microsoft_settings.certificate_{how}", CERTIFICATE.label,
                       thumbprint=info.sha1_thumbprint, expires=info.not_after.date().isoformat())
    return info


@transaction.atomic
def remove_certificate(actor: User) -> bool:
    """Go back to the client secret; True if a certificate was configured."""
    removed = clear_option(CERTIFICATE) | clear_option(CERTIFICATE_KEY)
    if removed:
        record_audit_event(actor, "microsoft_settings.certificate_removed", CERTIFICATE.label)
    return removed


@transaction.atomic
def save_enterprise_app_object_id(actor: User, object_id: str) -> bool:
    """The Enterprise application's Object ID, for the Exchange Online PowerShell of app-only
    mailboxes; True if it changed."""
    old = store.get(ENTERPRISE_APP_OBJECT_ID)
    if object_id == old:
        return False
    set_option(ENTERPRISE_APP_OBJECT_ID, object_id, actor)
    record_audit_event(actor, "microsoft_settings.changed", ENTERPRISE_APP_OBJECT_ID.label, old=old, new=object_id)
    return True
