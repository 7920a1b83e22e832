"""The mailbox connection flow finishing at the one Redirect URI."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from inboxbridge.mailboxes import actions
from inboxbridge.mailboxes.tasks import purge_on_commit
from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError

PAGE = "mailboxes:email-configuration"
CONNECT = "mailbox_connect"


@flows.register(CONNECT)
def finish_mailbox_connect(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    config = load_config()
    cache = client.new_cache()
    try:
        identity = flows.redeem(pending, answer, again="Click Connect again.", config=config, cache=cache)
    except MicrosoftError as error:
        messages.error(request, f"The mailbox was not connected. {error.message}")
        return redirect(PAGE)
    if not identity.username:
        messages.error(request, "Microsoft did not say which mailbox signed in (no preferred_username claim).")
        return redirect(PAGE)
    saved = actions.connect_office365_mailbox(request.user, identity, client.serialize_cache(cache), config.fingerprint)
    purge_on_commit(saved)
    messages.success(
        request, f"Connected Account: {saved.mailbox.email_address}. Retrieve the folders and choose what to sync."
    )
    return redirect(PAGE)
