"""The mailbox connection flows finishing at the one Redirect URI: a user's own mailbox, and a
system mailbox's own account (an administrator signs in as the mailbox)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from inboxbridge.mailboxes import actions
from inboxbridge.mailboxes.tasks import purge_on_commit
from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError

PAGE = "mailboxes:email-configuration"
CONNECT = "mailbox_connect"
SYSTEM_CONNECT = "system_mailbox_connect"


@dataclass(frozen=True)
class Redeemed:
    identity: SignedInIdentity
    token_cache: str
    fingerprint: str


def _redeem(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> Redeemed | None:
    """The signed-in mailbox account and its tokens; None (with the reason shown) when Microsoft refused."""
    config = load_config()
    cache = client.new_cache()
    try:
        identity = flows.redeem(pending, answer, again="Click Connect again.", config=config, cache=cache)
    except MicrosoftError as error:
        messages.error(request, f"The mailbox was not connected. {error.message}")
        return None
    if not identity.username:
        messages.error(request, "Microsoft did not say which mailbox signed in (no preferred_username claim).")
        return None
    return Redeemed(identity, client.serialize_cache(cache), config.fingerprint)


def _connected(request: HttpRequest, address: str) -> None:
    messages.success(request, f"Connected Account: {address}. Retrieve the folders and choose what to sync.")


@flows.register(CONNECT)
def finish_mailbox_connect(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    redeemed = _redeem(request, pending, answer)
    if redeemed is None:
        return redirect(PAGE)
    saved = actions.connect_office365_mailbox(request.user, redeemed.identity, redeemed.token_cache,
                                              redeemed.fingerprint)
    purge_on_commit(saved)
    _connected(request, saved.mailbox.email_address)
    return redirect(PAGE)


@flows.register(SYSTEM_CONNECT)
def finish_system_mailbox_connect(request: HttpRequest, pending: flows.PendingFlow,
                                  answer: dict[str, str]) -> HttpResponse:
    """Connect: the administrator signed in at Microsoft as the system mailbox's own account."""
    if not request.user.is_authenticated or not request.user.is_staff:
        messages.error(request, "Only administrators can connect a system mailbox.")
        return redirect("mail:list" if request.user.is_authenticated else "accounts:login")
    page = reverse("mailbox-settings:system-mailbox", args=[pending.payload["mailbox_id"]])
    redeemed = _redeem(request, pending, answer)
    if redeemed is None:
        return redirect(page)
    try:
        mailbox = actions.connect_system_office365_mailbox(
            request.user, pending.payload["mailbox_id"], redeemed.identity, redeemed.token_cache, redeemed.fingerprint)
    except actions.WrongAccount as wrong:
        messages.error(request, f"The mailbox was not connected. {wrong}")
        return redirect(page)
    _connected(request, mailbox.email_address)
    return redirect(page)
