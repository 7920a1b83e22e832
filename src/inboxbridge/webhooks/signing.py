"""Standard Webhooks signatures (https://www.standardwebhooks.com/), through the specification's
own Python library: `webhook-id`, `webhook-timestamp` and `webhook-signature` ("v1,<base64 of
HMAC-SHA256 over id.timestamp.body>"; several space-separated while two secrets are valid)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh endpoint secret in the specification's form: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def message_id(event_id: int) -> str:
    """The `webhook-id` of an event: the same on every attempt and Resend, so receivers can drop repeats."""
    return f"evt_{event_id}"


def signed_headers(msg_id: str, timestamp: datetime, body: bytes, secrets_now: Sequence[str]) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets_now)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
