"""A model field that keeps its value encrypted in the database (see lib.crypto)."""

from __future__ import annotations

from typing import Any

from django.db import models

from inboxbridge.lib import crypto


class EncryptedTextField(models.TextField):
    """Stores `crypto.encrypt(value)`; Python code only ever sees the plaintext.

    Empty strings are stored empty so "no secret set" needs no decryption.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)
