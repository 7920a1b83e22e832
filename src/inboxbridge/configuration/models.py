from __future__ import annotations

from django.conf import settings
from django.db import models

from inboxbridge.lib.fields import EncryptedTextField


class StoredSetting(models.Model):
    """A value set in the back-office; its absence means "Use Default" (the deployment's value)."""

    key = models.CharField(max_length=100, unique=True)
    value = models.TextField(blank=True)
    secret_value = EncryptedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return self.key
