"""Masking of anything shaped like a token, a credential or a secret, in log lines and error texts.

Code never logs secrets on purpose; this is the second line of defence for text that comes from
elsewhere (an exception message from a library, a server's answer, a URL with its query string).

Every pattern runs in time linear in the text: each starts only where a run of its characters
starts (a look-behind refuses the positions inside the run), has no nested or overlapping
quantifiers, and bounds the parts that may fail after a long scan. A log line or an error text
from a hostile server is masked as fast as any other (lib/tests/test_redaction.py times it).
"""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"

# Characters of an OAuth token (RFC 6750 b64token, which covers base64, base64url, JWTs and
# Microsoft's opaque tokens such as "EwB...", "M.C5..._BAY.0.U..." and "0.AXEA...").
_TOKEN = r"[A-Za-z0-9\-._~+/!*$]"
_NOT_TOKEN_BEFORE = r"(?<![A-Za-z0-9\-._~+/!*$])"
# A quoted IMAP string (escapes included) or an atom, bounded.
_IMAP_STRING = r'(?:"(?:[^"\\\r\n]|\\.){0,256}"|[^\s"]{1,256})'
# The value after a key: quoted (up to its closing quote) or bare (up to a separator).
_VALUE = r"""(?:"[^"\r\n]*"?|'[^'\r\n]*'?|[^\s"'&,;)}\]]+)"""
_SEPARATOR = r"""["']?[ \t]{0,8}[:=][ \t]{0,8}"""
_SECRET_KEYS = (
    "access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "code_verifier",
    "assertion", "password", "passwd", "secret", "token", "api_key", "apikey", "sessionid",
)

# Each pattern's group 1 is kept (the key, the header name, the command), the rest becomes MASK.
_PATTERNS = [
    # HTTP headers carrying a credential: the whole value, whatever its scheme (Bearer, Basic).
    re.compile(r"(?i)(?<![\w-])((?:(?:proxy-)?authorization|set-cookie|cookie)" + _SEPARATOR + r"""["']?)[^\r\n"']+"""),
    # A bearer token anywhere: "Bearer <token>", the decoded XOAUTH2 string's "auth=Bearer <token>".
    re.compile(r"(?i)(?<![\w-])(bearer[ \t]{1,8})" + _TOKEN + "+=*"),
    # key=value, key: value, "key": "value" whose key names a secret.
    re.compile(r"(?i)(?<![\w.-])((?:" + "|".join(_SECRET_KEYS) + ")" + _SEPARATOR + ")" + _VALUE),
    # An OAuth authorization code: code=... in a URL, query string or form; 'code': ... in a dict.
    re.compile(r"(?i)(?<![\w.-])(code=)" + _VALUE),
    re.compile(r"""(?i)(["']code["'][ \t]{0,8}:[ \t]{0,8})""" + _VALUE),
    # A connect link's secret, the last part of its path: Django logs the path of a used or expired one.
    re.compile(r"(/connect/)[A-Za-z0-9_-]{20,}"),
    # SASL initial responses on an IMAP AUTHENTICATE or SMTP AUTH line (PLAIN carries the password).
    re.compile(r"(?<![\w-])(AUTH(?:ENTICATE)?[ \t]{1,8}(?:PLAIN|XOAUTH2|OAUTHBEARER|LOGIN)[ \t]{1,8})[A-Za-z0-9+/]+=*"),
    # IMAP "<tag> LOGIN <user> <password>": the password.
    re.compile(r"(?<![\w.-])([A-Za-z0-9.]{1,64} LOGIN[ \t]{1,8}" + _IMAP_STRING + r"[ \t]{1,8})" + _IMAP_STRING),
    # XOAUTH2 on the wire: base64 of "user=...\x01auth=Bearer ...\x01\x01".
    re.compile(r"(?<![A-Za-z0-9+/=])()dXNlcj[A-Za-z0-9+/]{20,}=*"),
    # JWTs (access and id tokens, client assertions).
    re.compile(r"(?<![A-Za-z0-9_-])()eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    # Microsoft's opaque tokens without a key: consumer access tokens ("EwB..."), consumer refresh
    # tokens ("M.C5..._BAY.0.U..."), work-account codes and refresh tokens ("0.AXEA...", "1.AR...").
    re.compile(_NOT_TOKEN_BEFORE + r"()Ew[A-Za-z0-9+/]{60,}=*"),
    re.compile(_NOT_TOKEN_BEFORE + r"()M\.[A-Z0-9]{2,8}_" + _TOKEN + "{20,}=*"),
    re.compile(_NOT_TOKEN_BEFORE + r"()[01]\.A" + _TOKEN + "{30,}=*"),
    # Any other long unbroken token-like run (tokens are hundreds to thousands of characters).
    re.compile(_NOT_TOKEN_BEFORE + "()" + _TOKEN + "{200,}=*"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\g<1>" + MASK, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Masks a record's message, its arguments, its traceback and its stack (a handler's filter:
    settings.LOGGING puts it on the handler every logger ends at)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:  # formatted here, or already by another handler's formatter
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
