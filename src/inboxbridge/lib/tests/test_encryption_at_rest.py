from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from inboxbridge.configuration import store
from inboxbridge.configuration.models import StoredSetting
from inboxbridge.lib import crypto
from inboxbridge.microsoft.config import CLIENT_SECRET

OLD = crypto.generate_key()
NEW = crypto.generate_key()


def test_encrypt_round_trip_and_ciphertext_hides_the_value() -> None:
    token = crypto.encrypt("s3cret-value", (OLD,))
    assert "s3cret" not in token
    assert crypto.decrypt(token, (OLD,)) == "s3cret-value"


def test_a_missing_key_is_a_clear_error_not_garbage() -> None:
    token = crypto.encrypt("x", (OLD,))
    with pytest.raises(crypto.DecryptionError, match="reencrypt_secrets"):
        crypto.decrypt(token, (NEW,))


def _raw_secret_column() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_value FROM configuration_storedsetting WHERE key = %s", [CLIENT_SECRET.key])
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_secrets_are_stored_encrypted_and_rotation_reencrypts_with_the_newest_key(settings) -> None:
    settings.ENCRYPTION_KEYS = [OLD]
    StoredSetting.objects.create(key=CLIENT_SECRET.key, secret_value="the-client-secret")
    raw = _raw_secret_column()
    assert "the-client-secret" not in raw
    assert crypto.decrypt(raw, (OLD,)) == "the-client-secret"

    settings.ENCRYPTION_KEYS = [NEW, OLD]  # the operator puts a new key first
    out = io.StringIO()
    call_command("reencrypt_secrets", stdout=out)
    assert "Re-encrypted 1" in out.getvalue()

    settings.ENCRYPTION_KEYS = [NEW]  # ... and may now drop the old one
    assert crypto.decrypt(_raw_secret_column(), (NEW,)) == "the-client-secret"
    assert store.get(CLIENT_SECRET) == "the-client-secret"


@pytest.mark.django_db
def test_rotation_with_an_unknown_key_changes_nothing(settings) -> None:
    settings.ENCRYPTION_KEYS = [OLD]
    StoredSetting.objects.create(key=CLIENT_SECRET.key, secret_value="kept")
    before = _raw_secret_column()
    settings.ENCRYPTION_KEYS = [NEW]
    with pytest.raises(CommandError, match="Nothing was changed"):
        call_command("reencrypt_secrets", stdout=io.StringIO())
    assert _raw_secret_column() == before
