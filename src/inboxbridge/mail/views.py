"""My Emails. Every object is looked up through inboxbridge.mail.queries' visible_* querysets, so
another user's ids answer 404 (never 403: that would confirm the id exists).

No GET here changes mail when a message could have made the request: a message's HTML is shown on
this origin, so its images and styles can request any URL of the site with the reader's cookies.
Opening a message marks it read only on a top-level navigation the reader made (Fetch Metadata), or
by a POST from the page itself (mail.js). Every page and part that shows mail is `never_cache`: a
browser or proxy cache must not keep someone's mail after they sign out."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from inboxbridge.lib.html import sanitize_email_html
from inboxbridge.mail import actions, downloads, queries
from inboxbridge.mail.forms import FlagStateForm, ListForm, ReadStateForm, StateForm
from inboxbridge.mail.original import OriginalUnavailable, original_bytes
from inboxbridge.mail.tasks import push_flags_on_commit
from inboxbridge.mail.timezones import in_browser_time_zone
from inboxbridge.mailboxes.queries import own_mailboxes, visible_mailboxes

# The message frame: no scripts at all; images only from here (cid: parts) unless the reader asked
# for remote ones; styles inline only (no remote style sheets or fonts); no forms, no <base>.
BODY_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:{remote}; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
)
# Sec-Fetch-Site values of a navigation the reader made: a link or form of this site, or their own
# address bar or bookmark. "same-site" is not one: a sibling subdomain may be someone else's.
_READER_SITES = {"same-origin", "none"}


@never_cache
@login_required
@require_GET
@in_browser_time_zone
def email_list(request: HttpRequest, folder_id: int | None = None) -> HttpResponse:
    folder = (get_object_or_404(queries.visible_folders(request.user).select_related("mailbox"), pk=folder_id)
              if folder_id else None)  # its mailbox is the chosen one below
    form = ListForm(request.GET)
    # The mailbox switcher: a mailbox the user may not see answers 404, like its mail.
    chosen = get_object_or_404(visible_mailboxes(request.user), pk=form.mailbox_id) if form.mailbox_id else None
    chosen = folder.mailbox if folder is not None else chosen
    filters = queries.MailFilter(folder=folder, mailbox=chosen, unread=form.unread_only, flagged=form.flagged_only,
                                 query=form.query)
    switcher = queries.mailbox_switcher(request.user)
    page = queries.email_page(
        request.user, filters, before=form.position("before"), after=form.position("after")
    )
    return render(request, "mail/list.html", {
        # The sync status card: of the chosen mailbox when it is the user's own, else of their first one.
        "mailbox": chosen if chosen is not None and chosen.owner_id == request.user.pk and chosen.active
        else own_mailboxes(request.user).first(),
        "page": page,
        "emails": queries.with_thread_sizes(page.emails),
        "filters": filters,
        "folder": folder,
        "folders": queries.folder_list(request.user, chosen),
        "unread_count": queries.unread_count(request.user, chosen),
        # Shown once there is something to switch to: a system mailbox, or more than one mailbox.
        "switcher": switcher if len(switcher) > 1 or any(m.is_system for m in switcher) else [],
        "chosen": chosen,
        "here": request.get_full_path(),
        "time_zone": timezone.get_current_timezone_name(),
    })


@never_cache
@login_required
@require_GET
@in_browser_time_zone
def email_detail(request: HttpRequest, email_id: int) -> HttpResponse:
    email = get_object_or_404(queries.visible_emails(request.user), pk=email_id)
    if not email.is_seen and opened_by_reader(request):
        # Opening marks it read, as Outlook does; pushed to the server like a click on "Mark as read".
        # Otherwise the page offers "Mark as read", and mail.js clicks it once the page is shown.
        push_flags_on_commit(actions.mark_seen([email.pk], True))
        email.is_seen = True
    return render(request, "mail/detail.html", {
        "message": queries.message_view(email),
        "images": _images_allowed(request),
        "back": _back(request),
        "here": request.get_full_path(),
        "time_zone": timezone.get_current_timezone_name(),
    })


@never_cache
@login_required
@require_GET
@in_browser_time_zone
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    thread = get_object_or_404(queries.visible_threads(request.user), pk=thread_id)
    emails = queries.thread_messages(thread)
    if not emails:
        raise Http404("This conversation has no messages.")
    if opened_by_reader(request):
        push_flags_on_commit(actions.mark_seen([e.pk for e in emails if not e.is_seen], True))
        for email in emails:
            email.is_seen = True
    return render(request, "mail/thread.html", {
        "thread": thread,
        "conversation": [queries.message_view(e) for e in emails],
        "images": _images_allowed(request),
        "back": _back(request),
        "here": request.get_full_path(),
        "time_zone": timezone.get_current_timezone_name(),
    })


@never_cache
@login_required
@require_GET
@xframe_options_sameorigin
def email_body(request: HttpRequest, email_id: int) -> HttpResponse:
    """The sanitised HTML body as a document of its own, for the sandboxed frame of the message."""
    email = get_object_or_404(queries.visible_emails(request.user).only("id", "body_html"), pk=email_id)
    allow_remote = request.GET.get("images") == "1"
    parts = queries.inline_parts(email)

    def cid_url(content_id: str) -> str | None:
        part_id = parts.find(content_id)
        return reverse("mail:inline", args=[email.pk, part_id]) if part_id is not None else None

    body = sanitize_email_html(email.body_html, cid_url=cid_url, allow_remote=allow_remote)
    response = render(request, "mail/body.html", {"html": body.html})
    response["Content-Security-Policy"] = BODY_CSP.format(remote=" https: http:" if allow_remote else "")
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_POST
def set_read_state(request: HttpRequest, email_id: int) -> HttpResponse:
    return _set_state(request, email_id, ReadStateForm(request.POST), actions.mark_seen)


@login_required
@require_POST
def set_flag_state(request: HttpRequest, email_id: int) -> HttpResponse:
    return _set_state(request, email_id, FlagStateForm(request.POST), actions.mark_flagged)


def _set_state(
    request: HttpRequest, email_id: int, form: StateForm, mark: Callable[[list[int], bool], list[int]]
) -> HttpResponse:
    """A state the reader switches on one email they may see, then back to the page they were on."""
    email = get_object_or_404(queries.visible_emails(request.user).only("id"), pk=email_id)
    if not form.is_valid():
        return HttpResponseBadRequest(f"Unknown {form.what}.")
    push_flags_on_commit(mark([email.pk], form.state))
    return redirect(_safe_local(request, form.cleaned_data["next"]) or reverse("mail:list"))


@never_cache
@login_required
@require_GET
def attachment_download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    part = get_object_or_404(
        queries.visible_attachments(request.user).select_related("blob"), pk=attachment_id, blob__isnull=False
    )
    return downloads.attachment_response(part)


@never_cache
@login_required
@require_GET
def email_original(request: HttpRequest, email_id: int) -> HttpResponseBase:
    """The message as its mail server keeps it, downloaded as a .eml file (fetched read-only: it
    is not marked read by this). Another user's id is 404, like the message page."""
    email = get_object_or_404(queries.visible_emails(request.user).select_related("mailbox"), pk=email_id)
    if "Sec-Fetch-Dest" in request.headers and not opened_by_reader(request):
        # An image or a style of a message (or another site) asking: each would make the server
        # fetch a whole message from the mail server. Only the reader's own click does.
        return HttpResponseForbidden("Download the original from the message's page.",
                                     content_type="text/plain; charset=utf-8")
    try:
        raw = original_bytes(email)
    except OriginalUnavailable as exc:
        return render(request, "mail/original_unavailable.html", {"email": email, "reason": exc.message},
                      status=404 if exc.gone else 502)
    return downloads.original_response(raw, email)


@never_cache
@login_required
@require_GET
def inline_image(request: HttpRequest, email_id: int, part_id: int) -> HttpResponseBase:
    part = queries.inline_part(request.user, email_id, part_id)
    if part is None:
        raise Http404("No such part.")
    return downloads.inline_image_response(part)


def opened_by_reader(request: HttpRequest) -> bool:
    """Whether this GET is the reader opening the page: a top-level navigation (Sec-Fetch-Dest
    "document") from this site or from the reader's own address bar or bookmark. What a message
    can make, images, styles, fetches, frames, says otherwise; so do prefetches and prerenders, and
    browsers that send no Fetch Metadata (the page's script or button marks the message read)."""
    headers = request.headers
    if headers.get("Sec-Fetch-Dest") != "document" or headers.get("Sec-Fetch-Site") not in _READER_SITES:
        return False
    return "prefetch" not in headers.get("Sec-Purpose", "") and headers.get("Purpose") != "prefetch"


def _images_allowed(request: HttpRequest) -> set[int]:
    """The messages whose remote images the reader chose to show (?images=<id>, per message)."""
    return {int(v) for v in request.GET.getlist("images") if v.isdigit() and len(v) < 19}


def _back(request: HttpRequest) -> str:
    return _safe_local(request, request.GET.get("back", "")) or reverse("mail:list")


def _safe_local(request: HttpRequest, url: str) -> str:
    """`url` if it is a page of My Emails on this site (a return address taken from the request)."""
    mail_root = reverse("mail:list")
    if url.startswith(mail_root) and url_has_allowed_host_and_scheme(url, {request.get_host()}):
        return url
    return ""
