"""Re-encrypt every secret at rest with the first (newest) key of INBOXBRIDGE_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from inboxbridge.lib import crypto
from inboxbridge.lib.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt all stored secrets and tokens with the newest encryption key (run after adding a key)."

    @transaction.atomic  # all or nothing: a key that cannot decrypt one secret changes none
    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            for field in fields:
                column = connection.ops.quote_name(field.column)
                # Raw SQL: the field would decrypt on read and we want the ciphertext itself.
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
                    rows = cursor.fetchall()
                    for row_pk, ciphertext in rows:
                        try:
                            fresh = crypto.reencrypt(ciphertext)
                        except crypto.DecryptionError as error:
                            raise CommandError(
                                f"{model._meta.label}.{field.name} #{row_pk}: {error} Nothing was changed."
                            ) from None
                        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE {pk} = %s", [fresh, row_pk])  # noqa: S608
                    total += len(rows)
        self.stdout.write(f"Re-encrypted {total} secret(s) with the newest key.")
