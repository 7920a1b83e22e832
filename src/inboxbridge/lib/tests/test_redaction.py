"""Tokens, codes and passwords are masked in log lines and error texts, whatever their shape (JWT or
opaque), wherever they sit (a header, a URL, a form, a dict, an IMAP or SMTP command), in time
linear in the text; ordinary text stays readable."""

from __future__ import annotations

import base64
import logging
import sys
import time

import pytest

from inboxbridge.lib.redact import RedactSecretsFilter, redact

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
# Shapes of Microsoft's opaque (non-JWT) credentials: a consumer access token, a consumer refresh
# token, a work account's authorization code and refresh token.
ACCESS = "EwBwA8l6BAAUbR3x+Zq9/Kp2LmN7sTuV4wXyZ0aBcDeFgHiJkLmNoPqRsTuVwXyZ1234567890abcdefgh+/AA=="
REFRESH = "M.C507_BAY.0.U.-Cq7zUtB3x!JkLm*NoPq$RsTuVwXy9z8A7b6C5d4E3f2"
CODE = "0.AXEA2Yk7bQ-zQk6kH8hJ3pYxZ1c2Vb4NnMmLlKkJjHhGgFfEeDdCcBbAa.AgABAAIAAAD"
AAD_REFRESH = "1.AR8A2Yk7bQzQk6kH8hJ3pYxZ1c2Vb4NnMmLlKkJjHhGgFfEeDdCcBbAa_-xYz"
SECRET = "Xy8Q~aBcD3fGhIjKlMnOpQrStUvWxYz.0123456"
SHORT = "opaqueTok9"  # a stand-in's or another provider's short opaque token


def assert_masked(text: str, *secrets: str) -> str:
    masked = redact(text)
    for secret in secrets:
        assert secret not in masked, masked
    assert "[redacted]" in masked
    return masked


def test_tokens_and_secrets_are_masked() -> None:
    text = redact(f"Bearer {JWT} refresh_token=0.AAAbbbCCC client_secret: 'xyz~123'")
    assert JWT not in text and "0.AAAbbbCCC" not in text and "xyz~123" not in text
    assert text.count("[redacted]") == 3


@pytest.mark.parametrize("token", [ACCESS, REFRESH, SHORT])
def test_opaque_bearer_tokens_are_masked(token: str) -> None:
    assert_masked(f"request failed: Bearer {token} was refused", token)
    assert_masked(f"Authorization: Bearer {token}", token)
    assert_masked(f"{{'Authorization': 'Bearer {token}', 'Accept': 'application/json'}}", token)
    assert_masked(f"authorization=Basic {base64.b64encode(b'alice:hunter2').decode()}", "YWxpY2U6aHVudGVyMg==")


@pytest.mark.parametrize("token", [ACCESS, SHORT, JWT])
def test_xoauth2_strings_are_masked_encoded_and_decoded(token: str) -> None:
    sasl = f"user=alice@example.com\x01auth=Bearer {token}\x01\x01"
    encoded = base64.b64encode(sasl.encode()).decode()
    assert_masked(sasl, token)
    assert_masked(repr(sasl.encode()), token)
    assert_masked(f"ib1 AUTHENTICATE XOAUTH2 {encoded}", encoded, token)
    assert_masked(f"sent: {encoded}", encoded)
    assert_masked(f"AUTH XOAUTH2 {encoded}\r\n", encoded)
    assert "alice@example.com" in redact(sasl)  # who it was stays readable


def test_authorization_codes_are_masked_in_urls_forms_and_dicts() -> None:
    assert_masked(f"GET /oauth2/microsoft/callback?code={CODE}&state=abc&session_state=x HTTP/1.1", CODE)
    assert_masked(f"grant_type=authorization_code&code={CODE}&redirect_uri=https%3A%2F%2Fx", CODE)
    assert_masked(f"{{'code': '{CODE}', 'state': 'abc'}}", CODE)
    assert_masked(f'{{"code": "{SHORT}"}}', SHORT)
    assert_masked(f"https://app.example/cb#code={SHORT}", SHORT)


@pytest.mark.parametrize(
    ("key", "value"),
    [("refresh_token", REFRESH), ("refresh_token", AAD_REFRESH), ("client_secret", SECRET),
     ("access_token", ACCESS), ("id_token", SHORT), ("client_assertion", SHORT), ("code_verifier", SHORT),
     ("password", "hunter2 with spaces")],
)
def test_secret_parameters_are_masked_in_every_spelling(key: str, value: str) -> None:
    quoted = (f'{{"{key}": "{value}", "x": 1}}', f"{{'{key}': '{value}'}}", f"{key.upper()}: '{value}'")
    bare = (f"{key}={value}&next=1", f"{key}: {value}") if " " not in value else ()
    for text in quoted + bare:
        assert_masked(text, *value.split())


@pytest.mark.parametrize("token", [ACCESS, REFRESH, CODE, AAD_REFRESH])
def test_microsoft_tokens_are_masked_without_a_key(token: str) -> None:
    assert_masked(f"unexpected answer ({token}) from the token endpoint", token)


def test_imap_and_smtp_login_lines_hide_the_password() -> None:
    assert_masked('A001 LOGIN alice@example.com "p4ss \\"word\\""', "p4ss", "word")
    assert_masked("b'QWER2 LOGIN alice hunter2\\r\\n'", "hunter2")
    plain = base64.b64encode(b"\0alice\0hunter2").decode()
    assert_masked(f"ib1 AUTHENTICATE PLAIN {plain}", plain)
    assert_masked(f"AUTH PLAIN {plain}", plain)
    assert "alice@example.com" in redact('A001 LOGIN alice@example.com "secret"')


def test_ordinary_text_stays_readable() -> None:
    for text in (
        "HTTP status code: 500; error_code=AADSTS70008, error_codes: [70008]",
        "The IMAP server refused the login of alice@example.com: AUTHENTICATE failed.",
        '{"token_type": "Bearer", "expires_in": 3599}',
        "Could not connect to outlook.office365.com:993: connection lost (timed out)",
        "The access token expired; refreshing it",
        "/var/lib/inboxbridge/attachments/ab/cd/" + "ab" * 32,
    ):
        assert redact(text) == text


HOSTILE = {
    "spaces": " " * 200_000,
    "one run": "a" * 200_000,
    "JWT starts": "eyJ" * 70_000,
    "JWT parts": ("eyJ" + "a" * 9 + ".") * 16_000,
    "bearers": "Bearer " * 30_000,
    "keys": ("password" + " " * 8) * 12_000,
    "key-values": "password=" * 20_000,
    "quoted codes": "'code':" * 30_000,
    "XOAUTH2 starts": "dXNlcj" * 35_000,
    "logins": 'a LOGIN "' * 22_000,
    "long logins": ("a LOGIN " + '"' + "x" * 250 + " ") * 800,
    "headers": "Authorization: '" * 12_000,
    "code starts": "0.A" * 70_000,
    "short runs": ("a" * 199 + " ") * 1_000,
    "AUTH": "AUTH PLAIN " * 20_000,
    "open quote": '"password": "' + "x" * 200_000,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_redaction_is_fast_on_hostile_text(name: str) -> None:
    text = HOSTILE[name]
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 1.0, f"redact took too long on {name!r} ({len(text):,} characters)"


def test_the_filter_masks_messages_and_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", (JWT,), None)
    RedactSecretsFilter().filter(record)
    assert JWT not in record.getMessage()


def test_the_filter_masks_tracebacks_even_when_already_formatted() -> None:
    try:
        raise RuntimeError(f"the library said: access_token={ACCESS}")
    except RuntimeError:
        exc_info = sys.exc_info()
    for formatted_before in (False, True):
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), exc_info, sinfo=f"Bearer {SHORT}")
        if formatted_before:  # another handler's formatter ran first and cached the traceback
            logging.Formatter().format(record)
        RedactSecretsFilter().filter(record)
        output = logging.Formatter().format(record)
        assert ACCESS not in output and SHORT not in output and "RuntimeError" in output


def test_every_log_handler_masks_secrets(settings) -> None:
    """Django's own loggers (requests, the development server) write through the filter too."""
    for name in ("", "django", "django.request", "django.server", "django.security", "waitress", "inboxbridge"):
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            for handler in logger.handlers:
                if type(handler).__module__.startswith("_pytest"):
                    continue  # pytest's capture
                assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters), (name, handler)
            logger = logger.parent if logger.propagate else None
