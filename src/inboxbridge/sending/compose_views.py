"""Compose, Reply, Reply All, Forward, Drafts and the address suggestions. Emails and drafts are
looked up through visible_emails and visible_drafts, so another user's ids answer 404. Every page
showing mail is `never_cache`.

One view writes every kind of message; its POST does one of four things (the `action` field):
"send" (the default), "save" (the Save draft button), "autosave" (compose.js's timer, answered
with JSON) and "image" (an image inserted into the text: image_views). Once a draft exists, the
page's address is the draft's, so a reload resumes it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mail.models import Email
from inboxbridge.mail.queries import visible_emails
from inboxbridge.sending import actions, composing, image_views, images, mime, originals, queries, tasks
from inboxbridge.sending.addresses import format_addresses
from inboxbridge.sending.composing import Origin
from inboxbridge.sending.forms import ComposeForm, DraftForm
from inboxbridge.sending.models import SavedDraft

DRAFTS_PAGE_SIZE = 50


def _email(request: AuthenticatedRequest, email_id: int) -> Email:
    return get_object_or_404(visible_emails(request.user), pk=email_id)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def compose(request: AuthenticatedRequest) -> HttpResponse:
    return _compose(request, Origin())


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def reply(request: AuthenticatedRequest, email_id: int) -> HttpResponse:
    return _compose(request, Origin(parent=_email(request, email_id)))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def reply_all(request: AuthenticatedRequest, email_id: int) -> HttpResponse:
    return _compose(request, Origin(parent=_email(request, email_id), everyone=True))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def forward(request: AuthenticatedRequest, email_id: int) -> HttpResponse:
    return _compose(request, Origin(forward_of=_email(request, email_id)))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def draft(request: AuthenticatedRequest, draft_id: int) -> HttpResponse:
    saved = get_object_or_404(queries.visible_drafts(request.user), pk=draft_id)
    # What it answers or forwards, while the user may still read it.
    emails = visible_emails(request.user)
    parent = emails.filter(pk=saved.reply_to_email_id).first() if saved.reply_to_email_id else None
    forward_of = emails.filter(pk=saved.forward_of_id).first() if saved.forward_of_id else None
    return _compose(request, Origin(parent=parent, forward_of=forward_of), saved)


def _compose(request: AuthenticatedRequest, origin: Origin, saved: SavedDraft | None = None) -> HttpResponse:
    user = request.user
    mailboxes = list(queries.sendable_mailboxes(user))
    if saved is None and request.method == "POST" and request.POST.get("draft", "").isdigit():
        # The autosave made a draft before this page's address followed it.
        saved = get_object_or_404(queries.visible_drafts(user), pk=int(request.POST["draft"]))
    choices: dict[str, Any] = {
        "originals": originals.listed_attachments(origin.forward_of) if origin.forward_of is not None else [],
        "uploads": composing.attached_uploads(saved),
        "forwarding": origin.forward_of is not None,
    }
    action = request.POST.get("action", "send")
    if request.method == "POST" and not mailboxes:
        return _page(request, None, origin, saved, mailboxes, status=400)  # the page says why it cannot send
    if request.method != "POST":
        signatures = queries.signatures(user, mailboxes)
        first = (saved.mailbox if saved is not None and saved.mailbox in mailboxes
                 else mailboxes[0] if mailboxes else None)
        initial = (composing.resumed(saved) if saved is not None
                   else composing.initial(origin, first, signatures.get(first.pk, "") if first else ""))
        form = DraftForm(user, initial=initial, **choices)
    elif action == "image":
        return image_views.insert_image(request, origin, saved, choices)
    elif action in ("save", "autosave"):
        form = DraftForm(user, request.POST, request.FILES if action == "save" else None, **choices)
        if form.is_valid():
            saved = actions.save_draft(user, saved, composing.draft_fields(form.cleaned_data, origin, saved),
                                       uploads=_uploads(form), removed_uploads=form.removed_uploads)
            url = reverse("sending:draft", args=[saved.pk])
            if action == "autosave":
                return JsonResponse({"draft": saved.pk, "url": url, "saved": "Draft saved."})
            messages.success(request, "Draft saved. You find it under Drafts.")
            return redirect(url)
        if action == "autosave":
            return JsonResponse({"error": form.said_errors()}, status=400)
    else:
        sizes = composing.carried_sizes(origin, saved, request.POST.get("body_html", ""))
        form = ComposeForm(user, request.POST, request.FILES, **sizes, **choices)
        if form.is_valid():
            saved = actions.save_draft(user, saved, composing.draft_fields(form.cleaned_data, origin, saved),
                                       uploads=_uploads(form), removed_uploads=form.removed_uploads)
            try:
                outgoing, warnings = composing.outgoing(form.cleaned_data, origin, saved, user.get_full_name())
            except originals.OriginalMissing as exc:
                messages.error(request, str(exc))
                return redirect("sending:draft", draft_id=saved.pk)
            message = actions.queue_message(user, outgoing)
            tasks.dispatch_on_commit(message.pk)
            messages.success(request, f"“{message}” is in the Outbox and is sent in a moment.")
            for warning in filter(None, warnings):
                messages.warning(request, warning)
            return redirect("sending:outbox")
        if request.FILES and "attach" not in form.errors:
            form, saved = _keep_files(request, origin, saved, form, choices)
    return _page(request, form if mailboxes else None, origin, saved, mailboxes)


def _keep_files(request: AuthenticatedRequest, origin: Origin, saved: SavedDraft | None, refused: ComposeForm,
                choices: dict[str, Any]) -> tuple[ComposeForm, SavedDraft | None]:
    """A message refused for something else keeps its new files in its draft, listed and ticked on
    the page that says what to correct, so they need not be chosen again."""
    typed = DraftForm(request.user, request.POST, request.FILES, **choices)
    if not typed.is_valid():
        return refused, saved
    saved = actions.save_draft(request.user, saved, composing.draft_fields(typed.cleaned_data, origin, saved),
                               uploads=_uploads(typed), removed_uploads=typed.removed_uploads)
    data = request.POST.copy()
    attached = composing.attached_uploads(saved)
    data.setlist("keep_upload", [str(upload.pk) for upload in attached])
    choices = {**choices, "uploads": attached}
    form = ComposeForm(request.user, data, original_size=refused.original_size, inline_size=refused.inline_size,
                       **choices)
    form.is_valid()  # the same refusals, said again beside the fields
    messages.info(request, "Your files are kept in this message's draft.")
    return form, saved


def _uploads(form: DraftForm) -> list[mime.Part]:
    return [mime.Part(upload.name or "attachment", upload.content_type or "application/octet-stream", upload.read())
            for upload in form.cleaned_data.get("attach") or []]


def _page(request: AuthenticatedRequest, form: DraftForm | None, origin: Origin, saved: SavedDraft | None,
          mailboxes: list[Any], status: int = 200) -> HttpResponse:
    signatures = queries.signatures(request.user, mailboxes)
    html = form["body_html"].value() if form is not None else ""
    return render(request, "sending/compose.html", {
        "form": form, "origin": origin, "parent": origin.parent, "saved": saved,
        "html_initial": composing.for_editor(html or "", origin, saved),
        "image_types": images.ACCEPT_ATTRIBUTE, "image_names": images.ACCEPTED,
        "signatures": {str(pk): composing.signature_html(text) for pk, text in signatures.items()},
        "send_max_bytes": settings.SEND_MAX_BYTES,
        "unusable": queries.unusable_mailbox(request.user),
    }, status=400 if form is not None and form.errors else status)


@login_required
@never_cache
def drafts(request: AuthenticatedRequest) -> HttpResponse:
    rows = queries.visible_drafts(request.user).select_related("mailbox")
    page = Paginator(rows, DRAFTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "sending/drafts.html", {"page": page})


@login_required
@require_POST
def discard_draft(request: AuthenticatedRequest, draft_id: int) -> HttpResponse:
    saved = get_object_or_404(queries.visible_drafts(request.user), pk=draft_id)
    actions.discard_draft(saved)
    messages.success(request, f"The draft “{saved}” is discarded.")
    return redirect("sending:drafts")


@login_required
@never_cache
@require_GET
def address_suggestions(request: AuthenticatedRequest) -> JsonResponse:
    typed = request.GET.get("q", "")[:200]
    found = queries.address_suggestions(request.user, typed)
    return JsonResponse({"addresses": [format_addresses([pair]) for pair in found]})
