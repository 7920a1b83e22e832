"""The Outbox (Compose is in compose_views). Objects are looked up through the visible_* querysets (mail and
sending queries), so another user's ids answer 404, never 403. Every page that shows mail (a quoted
original, a queued message) is `never_cache`, like My Emails."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.sending import actions, queries, tasks
from inboxbridge.sending.addresses import format_addresses
from inboxbridge.sending.models import OutgoingMessage

OUTBOX_PAGE_SIZE = 50


@login_required
@never_cache
def outbox(request: AuthenticatedRequest) -> HttpResponse:
    rows = queries.visible_outgoing(request.user).select_related("mailbox").defer("mime", "body_text")
    page = Paginator(rows, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sending/outbox.html", {"page": page})


@login_required
@never_cache
def outgoing_detail(request: AuthenticatedRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(queries.visible_outgoing(request.user).select_related("mailbox"), pk=message_id)
    return render(request, "sending/detail.html", {
        "message": message,
        "to": format_addresses(message.to),
        "cc": format_addresses(message.cc),
        "bcc": format_addresses(message.bcc),
    })


@login_required
@require_POST
def retry(request: AuthenticatedRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(queries.visible_outgoing(request.user), pk=message_id)
    if not queries.sendable_mailboxes(request.user).filter(pk=message.mailbox_id).exists():
        messages.error(request, "This message's mailbox cannot send now: reconnect it in My Configuration > "
                                "Email Configuration first.")
    elif actions.retry_message(message):
        tasks.dispatch_on_commit(message.pk)
        messages.success(request, f"“{message}” is queued again.")
    else:
        messages.info(request, f"“{message}” is not waiting for a retry.")
    return redirect("sending:detail", message_id=message.pk)


@login_required
@require_POST
def cancel(request: AuthenticatedRequest, message_id: int) -> HttpResponse:
    return _act(request, message_id, actions.cancel_message, done="“{}” is cancelled and will not be sent.",
                refused="“{}” can no longer be cancelled: it is being sent or was sent.")


@login_required
@require_POST
def save_copy(request: AuthenticatedRequest, message_id: int) -> HttpResponse:
    return _act(request, message_id, _save_copy_again,
                done="A copy of “{}” is being saved in the Sent folder.",
                refused="“{}” has no copy waiting to be saved again.")


def _act(request: AuthenticatedRequest, message_id: int, action: Callable[[OutgoingMessage], bool], *,
         done: str, refused: str) -> HttpResponse:
    """One of the outbox's buttons on a message the user may see; back to the message, saying what happened."""
    message = get_object_or_404(queries.visible_outgoing(request.user), pk=message_id)
    if action(message):
        messages.success(request, done.format(message))
    else:
        messages.info(request, refused.format(message))
    return redirect("sending:detail", message_id=message.pk)


def _save_copy_again(message: OutgoingMessage) -> bool:
    if not actions.save_copy_again(message):
        return False
    tasks.save_copy_on_commit(message.pk)
    return True
