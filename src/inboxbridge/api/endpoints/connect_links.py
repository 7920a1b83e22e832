"""Connect links: a URL the application sends a person to, so that they connect their Office 365
mailbox as one of the token's user's mailboxes (or Reconnect one). The link opens a page of
inboxbridge (api/connect_views.py) that says who asks and who will read the mail before anything
goes to Microsoft."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from inboxbridge.api import actions, auth, queries
from inboxbridge.api.models import ApiToken
from inboxbridge.api.problems import ApiProblem, invalid
from inboxbridge.api.schemas import REDIRECT_URL_PATTERN, ConnectLinkIn, ConnectLinkOut, answers
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import office365_enabled

router = Router(tags=["mailboxes"])

_REDIRECT_URL = re.compile(REDIRECT_URL_PATTERN)
_USER_INFO = re.compile(r"^[A-Za-z]+://[^/?#]*@")


def _redirect_url(value: str) -> str:
    """`value` when it is an absolute http(s) URL without user:password ("" stays "")."""
    if not value or _REDIRECT_URL.fullmatch(value):
        return value
    if _USER_INFO.match(value):
        raise invalid("redirect_url", "A user name or password in the URL is refused: the browser would send it "
                                      "to that site.")
    raise invalid("redirect_url", "Give an absolute http:// or https:// URL, e.g. "
                                  "https://app.example.com/mailbox-connected.")


def _login_hint(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise invalid("login_hint", f"“{value}” is not an email address.") from None
    return value


def _mailbox(request: HttpRequest, mailbox_id: int | None) -> Mailbox | None:
    if mailbox_id is None:
        return None
    mailbox = queries.reconnectable_mailboxes(request.user).filter(pk=mailbox_id).first()
    if mailbox is None:
        raise ApiProblem(404, "No Office 365 mailbox of the token's user has this id: a connect link reconnects "
                              "only their own (a system mailbox they may read is connected by an administrator).")
    return mailbox


@router.post("/mailboxes/connect-links", response=answers(409, ok_201=ConnectLinkOut), auth=auth.MANAGE,
             summary="Make a connect link")
def create_connect_link(request: HttpRequest, payload: ConnectLinkIn) -> Status[dict[str, Any]]:
    """A link to send a person's browser to: inboxbridge shows them who asks to connect their Office
    365 mailbox and who will read its mail; on Continue they sign in at Microsoft, and the mailbox
    becomes one of the token's user's (with `mailbox`: Reconnects that one). The browser then goes
    to `redirect_url` with the outcome. The link works once, for INBOXBRIDGE_API_CONNECT_LINK_MINUTES.
    409 when Office 365 is not enabled in Microsoft Settings."""
    redirect_url = _redirect_url(payload.redirect_url)
    login_hint = _login_hint(payload.login_hint)
    mailbox = _mailbox(request, payload.mailbox)
    if not office365_enabled():
        raise ApiProblem(409, "Office 365 is not available: an administrator has to enable it in Microsoft Settings.")
    # ninja keeps what the auth returned (the token) on the request.
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    created = actions.create_connect_link(token, redirect_url=redirect_url, mailbox=mailbox,
                                          login_hint=login_hint or (mailbox.email_address if mailbox else ""))
    path = reverse("api-tokens:connect-link", args=[created.secret])
    url = settings.BASE_URL + path if settings.BASE_URL else request.build_absolute_uri(path)
    return Status(201, {"url": url, "expires_at": created.link.expires_at})
