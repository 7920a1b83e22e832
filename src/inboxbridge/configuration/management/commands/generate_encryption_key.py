from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from inboxbridge.lib import crypto


class Command(BaseCommand):
    help = "Print a new encryption key for INBOXBRIDGE_ENCRYPTION_KEYS (put it first, keep the old ones after it)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(crypto.generate_key())
