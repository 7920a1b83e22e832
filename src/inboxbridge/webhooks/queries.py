"""Reads of the webhooks app: which endpoints a person manages, their delivery log, and which are failing."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from inboxbridge.events.models import Event
from inboxbridge.webhooks.models import Delivery, Endpoint

LOG_LENGTH = 100


def own_endpoints(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Endpoint]:
    """My Configuration > Webhooks: the user's own endpoints."""
    return Endpoint.objects.filter(owner_id=user.pk).select_related("mailbox").order_by("pk")


def system_endpoints() -> QuerySet[Endpoint]:
    """System > Configuration > Integrations > Webhooks: the administrators' endpoints."""
    return Endpoint.objects.filter(owner__isnull=True).select_related("mailbox").order_by("pk")


def delivery_log(endpoint: Endpoint) -> list[Delivery]:
    return list(Delivery.objects.filter(endpoint=endpoint).select_related("event").order_by("-event_id")[:LOG_LENGTH])


def failing_endpoints() -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(state=Endpoint.State.FAILING, failing_since__isnull=False).select_related("owner")


def work_waiting() -> bool:
    return (Event.objects.filter(fanned_out=False).exists()
            or Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now()).exists())
