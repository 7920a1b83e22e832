"""Encryption at rest for secrets and tokens.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) with several keys: the first key encrypts,
every key decrypts, so an operator adds a new key in front, runs `reencrypt_secrets`, then drops
the old one.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise DecryptionError("No encryption key is configured (INBOXBRIDGE_ENCRYPTION_KEYS).")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise DecryptionError(
            "An encryption key in INBOXBRIDGE_ENCRYPTION_KEYS is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `inboxbridge manage generate_encryption_key`)."
        ) from exc


def _configured_keys() -> tuple[str, ...]:
    from django.conf import settings  # here: lib stays importable without configured settings

    return tuple(settings.ENCRYPTION_KEYS)


def encrypt(plaintext: str, keys: tuple[str, ...] | None = None) -> str:
    return _cipher(keys or _configured_keys()).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, keys: tuple[str, ...] | None = None) -> str:
    try:
        return _cipher(keys or _configured_keys()).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured keys: was an old key removed from "
            "INBOXBRIDGE_ENCRYPTION_KEYS before running `inboxbridge manage reencrypt_secrets`?"
        ) from None


def reencrypt(ciphertext: str, keys: tuple[str, ...] | None = None) -> str:
    """Return the same secret encrypted with the first (newest) key."""
    try:
        return _cipher(keys or _configured_keys()).rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted with the configured keys.") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
