"""Images inserted into the text of a message being written (Insert image, a paste, a drop).

The editor (sending/compose.js) posts the image with what was typed, as the autosave does, to the
Compose page's own address (action "image"): the draft is saved and the image added to it, under
a Content-ID of its own. The editor then shows it from `draft_image`, which answers only to the
draft's author (404 for anyone else, as the draft does); composing.from_editor turns that address
back into cid: when the draft is saved or sent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.http.response import HttpResponseBase
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mail import downloads
from inboxbridge.sending import actions, composing, queries
from inboxbridge.sending.composing import Origin
from inboxbridge.sending.forms import DraftForm, InsertImageForm
from inboxbridge.sending.models import SavedDraft


def insert_image(request: AuthenticatedRequest, origin: Origin, saved: SavedDraft | None,
                 choices: dict[str, Any]) -> JsonResponse:
    """A Compose page's POST with action "image": the draft saved with the image, or why not."""
    form = DraftForm(request.user, request.POST, **choices)
    if not form.is_valid():
        return JsonResponse({"error": form.said_errors()}, status=400)
    inserted = InsertImageForm(request.POST, request.FILES)
    if not inserted.is_valid():
        return JsonResponse({"error": " ".join(str(error) for error in inserted.errors.get("image", []))},
                            status=400)
    image = inserted.cleaned_data["image"]
    sizes = composing.carried_sizes(origin, saved, form.cleaned_data.get("body_html") or "")
    total = form.carried_size(**sizes) + len(image.data)
    limit = settings.SEND_MAX_BYTES
    if total > limit:
        return JsonResponse({"error": f"With “{image.filename}” the message's files would come to "
                                      f"{filesizeformat(total)}; a message may carry at most {filesizeformat(limit)} "
                                      "(mail servers refuse bigger messages). Remove some, or make the image smaller."},
                            status=413)
    saved, upload = actions.insert_draft_image(request.user, saved,
                                               composing.draft_fields(form.cleaned_data, origin, saved), image)
    return JsonResponse({"draft": saved.pk, "url": reverse("sending:draft", args=[saved.pk]), "saved": "Draft saved.",
                         "image": {"src": composing.image_url(upload), "alt": upload.filename}})


@login_required
@never_cache
@require_GET
def draft_image(request: AuthenticatedRequest, draft_id: int, upload_id: int) -> HttpResponseBase:
    upload = queries.draft_image(request.user, draft_id, upload_id)
    if upload is None:
        raise Http404("No such image.")
    return downloads.stored_image_response(upload.blob, upload.content_type, upload.filename,
                                           f"Image {upload.pk} of draft {draft_id}")
