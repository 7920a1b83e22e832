"""Client-side helpers for tests that talk to the stand-in and the mail stack."""

from __future__ import annotations

import base64
import imaplib
import poplib
import re
from html import unescape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import msal
import requests

if TYPE_CHECKING:
    from .identity import IdentityStandIn

MAIL_SCOPES = [
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/POP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
]


class SignInError(AssertionError):
    """The stand-in answered the sign-in with a page instead of a redirect."""


def http_session(identity: IdentityStandIn) -> requests.Session:
    """A requests session that trusts only the test CA.

    trust_env is off because REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the environment would
    otherwise override verify=.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = str(identity.ca_file)
    return session


def msal_app(identity: IdentityStandIn, client_id: str, client_secret: str) -> msal.ConfidentialClientApplication:
    """A fresh MSAL app per call: MSAL caches HTTP 400 answers for 60 s per app object."""
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=client_secret,
        authority=identity.authority,
        instance_discovery=False,
        http_client=http_session(identity),
    )


def sign_in(
    identity: IdentityStandIn,
    auth_uri: str,
    username: str,
    password: str,
    session: requests.Session | None = None,
) -> dict[str, str]:
    """Fill the stand-in's sign-in form like a browser; return the redirect's parameters.

    The result (code, state, ... or error, error_description) is what MSAL's
    acquire_token_by_auth_code_flow expects as auth_response.
    """
    session = session or http_session(identity)
    page = session.get(auth_uri, allow_redirects=False, timeout=30)
    if page.is_redirect:
        return redirect_params(page.headers["Location"])
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    flow = re.search(r'name="flow" value="([^"]+)"', page.text)
    if form is None or flow is None:
        raise SignInError(f"no sign-in form (HTTP {page.status_code}): {_text(page.text)}")
    answer = session.post(
        urljoin(auth_uri, unescape(form.group(1))),
        data={"flow": unescape(flow.group(1)), "username": username, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if answer.is_redirect:
        return redirect_params(answer.headers["Location"])
    if 'name="hiddenform"' in answer.text:  # response_mode=form_post
        fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', answer.text)
        return {unescape(k): unescape(v) for k, v in fields}
    raise SignInError(f"sign-in failed (HTTP {answer.status_code}): {_text(answer.text)}")


def redirect_params(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return dict(parse_qsl(parts.fragment or parts.query, keep_blank_values=True))


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 string; imaplib/smtplib base64-encode it themselves."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def imap_xoauth2(client: imaplib.IMAP4, user: str, token: str) -> tuple[str, Any]:
    """AUTHENTICATE XOAUTH2; on failure the server's JSON continuation gets the empty answer
    it needs, so a refusal raises imaplib.IMAP4.error instead of hanging."""
    answers = iter([xoauth2(user, token).encode(), b""])
    typ, data = client.authenticate("XOAUTH2", lambda _challenge: next(answers, b""))
    return typ, data


def pop3_xoauth2(client: poplib.POP3, user: str, token: str) -> bytes:
    """One-line AUTH XOAUTH2 (poplib has no AUTH); raises poplib.error_proto when refused."""
    line = base64.b64encode(xoauth2(user, token).encode()).decode("ascii")
    response: bytes = client._shortcmd(f"AUTH XOAUTH2 {line}")  # type: ignore[attr-defined]
    if not response.startswith(b"+OK"):
        # A refusal comes first as a "+ <base64 JSON error>" continuation that needs an
        # empty answer; only then does the -ERR follow.
        response = client._shortcmd("")  # type: ignore[attr-defined]
    return response


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page)[:500]
