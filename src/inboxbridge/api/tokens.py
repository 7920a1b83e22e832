"""API token secrets: made, shown once, kept as a SHA-256, compared in constant time.

A token reads `ibx_<key id>_<secret>`: the key id (public, 12 hex digits) finds the row, the secret
(32 random bytes, base64url) is checked against its hash. A SHA-256 is enough: the secret is random
and long, there is no password to guess slowly. A connect link's secret is made and kept the same way."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "ibx"
_TOKEN = re.compile(r"ibx_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
# A connect link's secret, the last part of its URL: 32 random bytes, base64url.
_LINK_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class NewSecret:
    key_id: str
    secret: str

    @property
    def token(self) -> str:
        """The whole token: shown once, never stored."""
        return f"{PREFIX}_{self.key_id}_{self.secret}"

    @property
    def sha256(self) -> str:
        return secret_hash(self.secret)


@dataclass(frozen=True)
class Presented:
    key_id: str
    secret: str


def new_secret() -> NewSecret:
    return NewSecret(secrets.token_hex(6), secrets.token_urlsafe(32))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def parse(token: str) -> Presented | None:
    """The parts of a presented token, or None when it is not one of ours at all."""
    match = _TOKEN.fullmatch(token.strip())
    return Presented(match[1], match[2]) if match else None


def matches(presented: Presented, stored_sha256: str) -> bool:
    return hmac.compare_digest(secret_hash(presented.secret), stored_sha256)


def new_link_secret() -> str:
    """A connect link's secret: in its URL only; inboxbridge keeps its secret_hash."""
    return secrets.token_urlsafe(32)


def is_link_secret(text: str) -> bool:
    return bool(_LINK_SECRET.fullmatch(text))
