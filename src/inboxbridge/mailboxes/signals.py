"""A delegate's departure: a shared mailbox opened with the sign-in a user gave stops when that
user is deactivated or deleted, and asks for a Reconnect with another delegate. Signals, so every
way a user leaves (the admin pages, Django's admin, a script) is covered."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from inboxbridge.mailboxes import actions

User = get_user_model()


@receiver(post_save, sender=User, dispatch_uid="mailboxes.delegate_deactivated")
def delegate_deactivated(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        actions.require_reconnect_after_departure(instance)


@receiver(pre_delete, sender=User, dispatch_uid="mailboxes.delegate_deleted")
def delegate_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    # Before the deletion sets connected_by to NULL and nothing says whose sign-in it was.
    actions.require_reconnect_after_departure(instance)
