"""Writes of the accounts app."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from inboxbridge.accounts.models import AuditEvent


def record_audit_event(
    actor: User | AnonymousUser | None, action: str, target: str = "", **detail: Any
) -> AuditEvent:
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(actor=user, action=action, target=target, detail=detail)
