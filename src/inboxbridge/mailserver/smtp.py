"""The one door to SMTP: the only module that speaks it.

XOAUTH2 uses the two-step form (AUTH XOAUTH2, then the response on its own line): the one-line form
makes a ~2,300-byte command that some servers refuse.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterable

from django.conf import settings

from inboxbridge.lib.redact import redact
from inboxbridge.lib.tls import client_ssl_context
from inboxbridge.mailserver.login import ServerLogin
from inboxbridge.mailserver.network import open_connection


class SmtpError(Exception):
    """Sending failed; the message is safe to show: masked (lib/redact.py), since a server's
    refusal may echo the credential it was sent."""

    def __init__(self, message: str, *, permanent: bool = False, auth_failed: bool = False) -> None:
        super().__init__(redact(message))
        self.permanent = permanent
        self.auth_failed = auth_failed


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _explain(code: int, text: str) -> str:
    if "5.7.139" in text or "SmtpClientAuthentication is disabled" in text:
        return ("SMTP AUTH is disabled for this mailbox or tenant. An Exchange administrator must run "
                "Set-CASMailbox -Identity <mailbox> -SmtpClientAuthenticationDisabled $false.")
    return f"{code} {text}".strip()


class _Pinned(smtplib.SMTP):
    """smtplib connecting to the login's vetted addresses instead of looking the host up again
    (network.py); STARTTLS and implicit TLS still check the certificate for the host name."""

    addresses: tuple[str, ...] = ()

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return open_connection(host, port, self.addresses, timeout)


class _PinnedSmtp(_Pinned):
    def __init__(self, login: ServerLogin, timeout: float) -> None:
        self.addresses = login.addresses  # before smtplib connects, in __init__
        super().__init__(login.host, login.port, timeout=timeout)


class _PinnedSmtpSsl(smtplib.SMTP_SSL, _Pinned):
    # SMTP_SSL wraps the socket that _Pinned opens (its _get_socket calls super()'s).
    def __init__(self, login: ServerLogin, timeout: float, context: ssl.SSLContext) -> None:
        self.addresses = login.addresses
        super().__init__(login.host, login.port, timeout=timeout, context=context)


def _open(login: ServerLogin, timeout: float | None = None) -> smtplib.SMTP:
    timeout = timeout or settings.MAIL_NETWORK_TIMEOUT
    context = client_ssl_context()
    connection: smtplib.SMTP
    if login.security == "ssl":
        connection = _PinnedSmtpSsl(login, timeout, context)
    else:
        connection = _PinnedSmtp(login, timeout)
        if login.security == "starttls":
            try:
                connection.starttls(context=context)
            except BaseException:
                connection.close()
                raise
    try:
        _authenticate(connection, login)
    except BaseException:
        connection.close()  # a refused login must not leave the socket open (retries would pile up)
        raise
    return connection


def _authenticate(connection: smtplib.SMTP, login: ServerLogin) -> None:
    if login.mechanism == "XOAUTH2":
        sasl = f"user={login.username}\x01auth=Bearer {login.secret}\x01\x01"
        answers = [sasl]

        def respond(challenge: bytes | None = None) -> str:
            # Two-step: smtplib calls this for the server's empty 334 first (challenge b"", not None),
            # which gets the credential; a failed login's JSON error challenge gets an empty line.
            return answers.pop() if answers else ""

        connection.ehlo()
        connection.auth("XOAUTH2", respond, initial_response_ok=False)
    else:
        connection.login(login.username, login.secret)


def _guarded(login: ServerLogin, timeout: float | None = None) -> smtplib.SMTP:
    try:
        return _open(login, timeout)
    except smtplib.SMTPAuthenticationError as exc:
        # 5xx: the server will keep refusing this credential; 4xx: it may accept it later.
        raise SmtpError(f"Authentication failed: {_explain(exc.smtp_code, _text(exc.smtp_error))}",
                        auth_failed=True, permanent=500 <= exc.smtp_code < 600) from None
    except smtplib.SMTPException as exc:
        raise SmtpError(f"The SMTP server refused: {type(exc).__name__}") from None
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise SmtpError(f"TLS with {login.host}:{login.port} failed: {exc.__class__.__name__}") from None
    except TimeoutError:
        raise SmtpError(f"{login.host}:{login.port} did not answer in time.") from None
    except OSError as exc:
        raise SmtpError(f"Could not connect to {login.host}:{login.port}: {exc.strerror or exc}") from None


def check_login(login: ServerLogin, *, timeout: float | None = None) -> None:
    """Log in and out; `timeout` (seconds per network operation) defaults to the mail timeout."""
    connection = _guarded(login, timeout)
    connection.quit()


def send(login: ServerLogin, sender: str, recipients: Iterable[str], message: bytes) -> None:
    connection = _guarded(login)
    try:
        refused = connection.sendmail(sender, list(recipients), message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise SmtpError("Every recipient was refused: " + ", ".join(exc.recipients), permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        raise SmtpError(_explain(exc.smtp_code, _text(exc.smtp_error)),
                        permanent=500 <= exc.smtp_code < 600) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SmtpError(f"Sending was interrupted: {type(exc).__name__}") from None
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
    if refused:
        raise SmtpError("Some recipients were refused: " + ", ".join(refused), permanent=True)
