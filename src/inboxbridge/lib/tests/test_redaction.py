from __future__ import annotations

import logging

from inboxbridge.lib.redact import RedactSecretsFilter, redact

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"


def test_tokens_and_secrets_are_masked() -> None:
    text = redact(f"Bearer {JWT} refresh_token=0.AAAbbbCCC client_secret: 'xyz~123'")
    assert JWT not in text and "0.AAAbbbCCC" not in text and "xyz~123" not in text
    assert text.count("[redacted]") == 3


def test_the_filter_masks_messages_and_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", (JWT,), None)
    RedactSecretsFilter().filter(record)
    assert JWT not in record.getMessage()
