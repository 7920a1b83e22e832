"""What failed, in our own words, for a server whose words must not be shown: one a user typed
(an "Other" account), which could be any service inside the network (its banner, its error line).

The door's errors keep the exception they translated as `__context__` (their `raise ... from
None`); the text is chosen from its type alone, never from what the server sent.
"""

from __future__ import annotations

import imaplib
import smtplib
import ssl

from inboxbridge.mailserver.login import ServerLogin

SECURITY_HINT = "Check the port and the security setting."


def imap_failure_text(error: Exception, login: ServerLogin, timeout: float) -> str:
    cause = error.__context__
    where = f"{login.host}:{login.port}"
    if getattr(error, "auth_failed", False):
        return f"the server at {where} refused the login of {login.username}. Check the username and password."
    if type(cause) is imaplib.IMAP4.error and getattr(error, "transient", False):  # a NO [UNAVAILABLE], not a break
        return f"the server at {where} is busy or unavailable. Try again later."
    if isinstance(cause, imaplib.IMAP4.abort) and str(cause) == "TLS not supported by server":  # imaplib's words
        return f"the server at {where} offers no STARTTLS on this port. {SECURITY_HINT}"
    return _network_text(cause, where, "IMAP", timeout)


def smtp_failure_text(error: Exception, login: ServerLogin, timeout: float) -> str:
    cause = error.__context__
    where = f"{login.host}:{login.port}"
    if getattr(error, "auth_failed", False):
        return f"the server at {where} refused the login of {login.username}. Check the username and password."
    if isinstance(cause, smtplib.SMTPNotSupportedError):
        return f"the server at {where} offers no STARTTLS or no login on this port. {SECURITY_HINT}"
    return _network_text(cause, where, "SMTP", timeout)


def _network_text(cause: BaseException | None, where: str, protocol: str, timeout: float) -> str:
    if isinstance(cause, TimeoutError):
        return f"{where} did not answer within {timeout:g} seconds. Check the host and port."
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"the TLS certificate of {where} is not trusted (expired, self-signed or for another name)."
    if isinstance(cause, ssl.SSLError | ssl.CertificateError):
        return f"TLS with {where} failed. {SECURITY_HINT}"
    if isinstance(cause, OSError) and not isinstance(cause, smtplib.SMTPException):
        return f"could not connect to {where}. Check the host and port."
    return f"{where} did not answer like an {protocol} server. Check the host, the port and the security setting."
