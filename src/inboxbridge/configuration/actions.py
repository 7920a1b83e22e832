"""Writes of the settings store, each audited (never with a secret's value).

`set_option` and `clear_option` are the building blocks other apps' actions use inside their own
transaction (Microsoft Settings in `microsoft/actions.py`, Sign in with Microsoft in
`signin/actions.py`, Other Mail Servers in `mailboxes/actions.py`).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.db import transaction

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration import store
from inboxbridge.configuration.models import StoredSetting

User = UserModel | AnonymousUser


def set_option(option: store.Option, value: str, actor: User) -> None:
    """Save `value` in the back-office: it now wins over the deployment default."""
    user = actor if actor.is_authenticated else None
    defaults: dict[str, object] = {"secret_value": value, "value": ""} if option.secret else {"value": value}
    StoredSetting.objects.update_or_create(key=option.key, defaults={**defaults, "updated_by": user})


def clear_option(option: store.Option) -> bool:
    """"Use Default": forget the saved value; True if there was one."""
    deleted, _ = StoredSetting.objects.filter(key=option.key).delete()
    return bool(deleted)


@transaction.atomic
def save_options(actor: User, values: dict[store.Option, str], *, audit: str) -> list[str]:
    """Store plain (not secret) options; returns the labels of those that changed."""
    current = store.get_many(tuple(values))
    changed = [option.label for option, value in values.items() if current[option.key] != value]
    for option, value in values.items():
        set_option(option, value, actor)
    if changed:
        record_audit_event(actor, audit, changed=changed)
    return changed

