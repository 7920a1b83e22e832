"""The end of a connect link at the one Redirect URI: the person who opened the link signed in at
Microsoft, and their Office 365 mailbox becomes one of the link owner's (or Reconnects the link's
mailbox). The browser then goes to the link's redirect_url with the outcome in its query:
`status=connected&mailbox=<id>`, or `status=error&error=<code>&error_description=<text>`; a link
without one shows the outcome on a page of its own."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from inboxbridge.api import actions, queries
from inboxbridge.api.models import ConnectLink
from inboxbridge.jobs.scheduler import request_sync
from inboxbridge.mailboxes import actions as mailbox_actions
from inboxbridge.mailboxes.flows import redeem_mailbox_sign_in
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import flows
from inboxbridge.microsoft.errors import MicrosoftError

KIND = "api_connect_link"
NEW_LINK = "Ask the application that sent you the link for a new one."
# The outcome codes inboxbridge itself gives (docs/api.md); Microsoft's refusals keep their OAuth
# error (access_denied, consent_required, invalid_grant, ...).
DECLINED, WRONG_ACCOUNT, ALREADY_CONNECTED, MAILBOX_GONE, WITHDRAWN = (
    "declined", "wrong_account", "already_connected", "mailbox_gone", "link_withdrawn")


def with_outcome(url: str, outcome: dict[str, str]) -> str:
    """`url` with `outcome` added to its query; what the application put there stays as it was."""
    base, _, fragment = url.partition("#")
    joined = f"{base}{'&' if '?' in base else '?'}{urlencode(outcome)}"
    return f"{joined}#{fragment}" if fragment else joined


def _answer(request: HttpRequest, link: ConnectLink, outcome: dict[str, str], **context: Any) -> HttpResponse:
    if link.redirect_url:
        return HttpResponseRedirect(with_outcome(link.redirect_url, outcome))
    connected = outcome["status"] == "connected"
    return render(request, "api/connect_status.html", {"outcome": outcome, "connected": connected, **context},
                  status=200 if connected else 400)


def refused(request: HttpRequest, link: ConnectLink, error: str, description: str) -> HttpResponse:
    """The link ended without a mailbox: audited, and the application (or the person) told why."""
    actions.record_link_refusal(link, error)
    return _answer(request, link, {"status": "error", "error": error, "error_description": description},
                   owner=link.owner)


@flows.register(KIND)
def finish_connect_link(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    link = queries.connect_link(pending.payload["link_id"])
    if link is None:  # its token or user was deleted meanwhile
        return render(request, "api/connect_status.html", {"gone": "unknown"}, status=404)
    # The link was used by the Continue that started this flow (and may have expired since): only
    # a withdrawn token or user stops it now.
    if queries.link_withdrawn(link, timezone.now()):
        return refused(request, link, WITHDRAWN, "The application's access to inboxbridge was withdrawn meanwhile. "
                                                 "Nothing was connected.")
    try:
        redeemed = redeem_mailbox_sign_in(pending, answer, again=NEW_LINK)
    except MicrosoftError as error:
        return refused(request, link, error.error, error.message)
    try:
        saved = actions.connect_through_link(link, redeemed.identity, redeemed.token_cache, redeemed.fingerprint)
    except mailbox_actions.WrongAccount as wrong:
        return refused(request, link, WRONG_ACCOUNT, str(wrong))
    except mailbox_actions.AlreadyConnected as taken:
        return refused(request, link, ALREADY_CONNECTED, str(taken))
    except Mailbox.DoesNotExist:
        return refused(request, link, MAILBOX_GONE, f"The mailbox to reconnect was disconnected meanwhile. {NEW_LINK}")
    # Its folders are listed by a first sync at once, as Sync now would (after this commits).
    request_sync(saved.mailbox)
    return _answer(request, link, {"status": "connected", "mailbox": str(saved.mailbox.pk)}, mailbox=saved.mailbox,
                   owner=link.owner)
