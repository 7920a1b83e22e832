"""The mailbox connection flows finishing at the one Redirect URI: a user's own mailbox, a shared
mailbox a user delegates for, and a system mailbox connected as its own account or through a
delegate (a person who holds Full Access on the shared mailbox signs in as themselves)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from inboxbridge.mailboxes import actions, server_check
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft import client, flows
from inboxbridge.microsoft.client import SignedInIdentity
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.errors import MicrosoftError

PAGE = "mailboxes:email-configuration"
CONNECT = "mailbox_connect"
SHARED_CONNECT = "shared_mailbox_connect"
SYSTEM_CONNECT = "system_mailbox_connect"
SYSTEM_DELEGATE_CONNECT = "system_mailbox_delegate"


@dataclass(frozen=True)
class Redeemed:
    identity: SignedInIdentity
    token_cache: str
    fingerprint: str


def redeem_mailbox_sign_in(pending: flows.PendingFlow, answer: dict[str, str], *, again: str) -> Redeemed:
    """The mailbox account that signed in at Microsoft and its tokens. A MicrosoftError (its message
    ending with `again` where starting over helps) when Microsoft refused, or did not say which
    mailbox signed in."""
    config = load_config()
    cache = client.new_cache()
    identity = flows.redeem(pending, answer, again=again, config=config, cache=cache)
    if not identity.username:
        raise MicrosoftError("no_username", "Microsoft did not say which mailbox signed in (no preferred_username "
                                            "claim).")
    return Redeemed(identity, client.serialize_cache(cache), config.fingerprint)


def _redeem(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> Redeemed | None:
    """The signed-in account and its tokens; None (with the reason shown) when Microsoft refused."""
    try:
        return redeem_mailbox_sign_in(pending, answer, again="Click Connect again.")
    except MicrosoftError as error:
        messages.error(request, f"The mailbox was not connected. {error.message}")
        return None


def _full_access_problem(shared: str, redeemed: Redeemed) -> str:
    """Whether the delegate who signed in can really open `shared` (an IMAP login), before saving."""
    return server_check.check_full_access(Mailbox(
        account_type=Mailbox.AccountType.OFFICE365_SHARED, email_address=shared,
        signed_in_as=redeemed.identity.username, ms_home_account_id=redeemed.identity.home_account_id,
        token_cache=redeemed.token_cache, token_fingerprint=redeemed.fingerprint))


def _connected(request: HttpRequest, mailbox: Mailbox) -> None:
    through = (f" through the sign-in of {mailbox.signed_in_as}"
               if mailbox.account_type == Mailbox.AccountType.OFFICE365_SHARED else "")
    messages.success(request, f"Connected Account: {mailbox.email_address}{through}. Retrieve the folders and "
                              "choose what to sync.")


def _own_page(mailbox_id: int) -> str:
    return reverse("mailboxes:mailbox", args=[mailbox_id])


@flows.register(CONNECT)
def finish_mailbox_connect(request: HttpRequest, pending: flows.PendingFlow, answer: dict[str, str]) -> HttpResponse:
    """Connect a user's own Office 365 mailbox (or Reconnect the one in the payload)."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    mailbox_id = pending.payload.get("mailbox_id")
    back = _own_page(mailbox_id) if mailbox_id else reverse(PAGE) + "?type=office365"
    redeemed = _redeem(request, pending, answer)
    if redeemed is None:
        return redirect(back)
    try:
        saved = actions.connect_office365_mailbox(request.user, redeemed.identity, redeemed.token_cache,
                                                  redeemed.fingerprint, mailbox_id=mailbox_id)
    except (actions.WrongAccount, actions.AlreadyConnected) as refused:
        messages.error(request, f"The mailbox was not connected. {refused}")
        return redirect(back)
    except Mailbox.DoesNotExist:
        messages.error(request, "The mailbox was disconnected meanwhile: connect it again.")
        return redirect(PAGE)
    _connected(request, saved.mailbox)
    return redirect(_own_page(saved.mailbox.pk))


@flows.register(SHARED_CONNECT)
def finish_shared_mailbox_connect(request: HttpRequest, pending: flows.PendingFlow,
                                  answer: dict[str, str]) -> HttpResponse:
    """A user connected (or Reconnected) a shared mailbox among their own, signing in as themselves."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    shared, mailbox_id = pending.payload["shared"], pending.payload.get("mailbox_id")
    back = _own_page(mailbox_id) if mailbox_id else reverse(PAGE) + "?type=office365_shared"
    redeemed = _redeem(request, pending, answer)
    if redeemed is None:
        return redirect(back)
    if problem := _full_access_problem(shared, redeemed):
        messages.error(request, f"{shared} was not connected. {problem}")
        return redirect(back)
    try:
        mailbox = actions.connect_shared_mailbox(request.user, shared, redeemed.identity, redeemed.token_cache,
                                                 redeemed.fingerprint, mailbox_id=mailbox_id)
    except actions.AlreadyConnected as taken:
        messages.error(request, f"{shared} was not connected. {taken}")
        return redirect(PAGE)
    except Mailbox.DoesNotExist:
        messages.error(request, "The mailbox was disconnected meanwhile: connect it again.")
        return redirect(PAGE)
    _connected(request, mailbox)
    return redirect(_own_page(mailbox.pk))


@dataclass(frozen=True)
class SystemSignIn:
    actor: User
    page: str  # the system mailbox's page
    redeemed: Redeemed


def _system_sign_in(request: HttpRequest, pending: flows.PendingFlow,
                    answer: dict[str, str]) -> SystemSignIn | HttpResponse:
    """The administrator finishing a system mailbox's sign-in and what Microsoft answered; or where
    to go (with the reason shown) when this user may not finish or Microsoft refused."""
    user = request.user
    if not isinstance(user, User) or not user.is_staff:
        messages.error(request, "Only administrators can connect a system mailbox.")
        return redirect("mail:list" if user.is_authenticated else "accounts:login")
    page = reverse("mailbox-settings:system-mailbox", args=[pending.payload["mailbox_id"]])
    redeemed = _redeem(request, pending, answer)
    if redeemed is None:
        return redirect(page)
    return SystemSignIn(user, page, redeemed)


@flows.register(SYSTEM_CONNECT)
def finish_system_mailbox_connect(request: HttpRequest, pending: flows.PendingFlow,
                                  answer: dict[str, str]) -> HttpResponse:
    """Connect: the administrator signed in at Microsoft as the system mailbox's own account."""
    signed = _system_sign_in(request, pending, answer)
    if isinstance(signed, HttpResponse):
        return signed
    redeemed = signed.redeemed
    try:
        mailbox = actions.connect_system_office365_mailbox(
            signed.actor, pending.payload["mailbox_id"], redeemed.identity, redeemed.token_cache, redeemed.fingerprint)
    except actions.WrongAccount as wrong:
        messages.error(request, f"The mailbox was not connected. {wrong}")
        return redirect(signed.page)
    _connected(request, mailbox)
    return redirect(signed.page)


@flows.register(SYSTEM_DELEGATE_CONNECT)
def finish_system_delegate_connect(request: HttpRequest, pending: flows.PendingFlow,
                                   answer: dict[str, str]) -> HttpResponse:
    """Connect a system mailbox that is a shared mailbox: a delegate with Full Access signed in as
    themselves; their sign-in is checked against the shared mailbox before it is kept."""
    signed = _system_sign_in(request, pending, answer)
    if isinstance(signed, HttpResponse):
        return signed
    redeemed, shared = signed.redeemed, pending.payload["shared"]
    if problem := _full_access_problem(shared, redeemed):
        messages.error(request, f"The mailbox was not connected. {problem}")
        return redirect(signed.page)
    try:
        mailbox = actions.connect_system_shared_mailbox(signed.actor, pending.payload["mailbox_id"], shared,
                                                        redeemed.identity, redeemed.token_cache, redeemed.fingerprint)
    except Mailbox.DoesNotExist:
        messages.error(request, "The system mailbox was deleted or changed meanwhile.")
        return redirect("mailbox-settings:system-mailboxes")
    _connected(request, mailbox)
    return redirect(signed.page)
