"""A logging filter that masks anything shaped like a token or a secret.

Code never logs secrets on purpose; this is the second line of defence for text that comes from
elsewhere (an exception message from a library, a server's answer).
"""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # JWTs (access and id tokens)
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    # key=value pairs whose key says secret
    re.compile(
        r"(?i)((?:refresh_token|access_token|id_token|client_secret|code_verifier|password|auth=Bearer)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
    ),
    # SASL XOAUTH2 initial responses are base64 of "user=...\x01auth=Bearer ..."
    re.compile(r"dXNlcj[A-Za-z0-9+/=]{40,}"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
