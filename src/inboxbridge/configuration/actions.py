"""Writes of the configuration app: each one transaction, each audited (never with a secret's value)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.db import transaction

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration import store
from inboxbridge.configuration.models import StoredSetting

User = UserModel | AnonymousUser


def _set(option: store.Option, value: str, actor: User) -> None:
    user = actor if actor.is_authenticated else None
    defaults: dict[str, object] = {"secret_value": value, "value": ""} if option.secret else {"value": value}
    StoredSetting.objects.update_or_create(key=option.key, defaults={**defaults, "updated_by": user})


@transaction.atomic
def save_microsoft_settings(
    actor: User, *, values: dict[str, str], use_default: dict[str, bool]
) -> list[str]:
    """Store the submitted credentials; returns the labels of the fields that changed.

    An empty secret field means "keep the stored secret" (the page never shows it back).
    """
    changed: list[str] = []
    for option in store.MICROSOFT_CREDENTIALS:
        row = store.stored(option)
        if use_default.get(option.key):
            if row is not None:
                row.delete()
                changed.append(option.label)
                record_audit_event(actor, "microsoft_settings.use_default", option.label)
            continue
        new = values.get(option.key, "")
        if not new and (option.secret or row is None):
            continue  # an empty secret field keeps the stored secret; an empty new field keeps the default
        old = (row.secret_value if option.secret else row.value) if row is not None else None
        if new == old:
            continue
        _set(option, new, actor)
        changed.append(option.label)
        detail: dict[str, object] = {"change": "set"} if option.secret else {"old": old, "new": new}
        record_audit_event(actor, "microsoft_settings.changed", option.label, **detail)
    return changed


@transaction.atomic
def enable_email_sync(actor: User, fingerprint: str) -> None:
    _set(store.EMAIL_SYNC_ENABLED, "1", actor)
    _set(store.VERIFIED_FINGERPRINT, fingerprint, actor)
    record_audit_event(actor, "microsoft_settings.enabled", store.EMAIL_SYNC_ENABLED.label)


@transaction.atomic
def disable_email_sync(actor: User) -> None:
    _set(store.EMAIL_SYNC_ENABLED, "0", actor)
    record_audit_event(actor, "microsoft_settings.disabled", store.EMAIL_SYNC_ENABLED.label)


@transaction.atomic
def save_options(actor: User, values: dict[store.Option, str], *, audit: str) -> list[str]:
    """Store plain (not secret) options; returns the labels of those that changed."""
    current = store.get_many(tuple(values))
    changed = [option.label for option, value in values.items() if current[option.key] != value]
    for option, value in values.items():
        _set(option, value, actor)
    if changed:
        record_audit_event(actor, audit, changed=changed)
    return changed


def save_other_accounts_settings(actor: User, *, enabled: bool, allowed_hosts: list[str]) -> list[str]:
    """Whether users may add Other accounts, and to which servers; returns the labels that changed."""
    return save_options(actor, {store.OTHER_ACCOUNTS_ENABLED: "1" if enabled else "0",
                                store.OTHER_ACCOUNTS_ALLOWED_HOSTS: ", ".join(allowed_hosts)},
                        audit="other_accounts.settings_changed")
