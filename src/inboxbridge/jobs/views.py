"""/healthz for load balancers and monitoring, the administrators' list of every mailbox, and the
Sync now buttons (the owner's on the sync status card, an administrator's on the list)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.jobs.health import health
from inboxbridge.jobs.models import WorkerHeartbeat
from inboxbridge.jobs.scheduler import request_sync
from inboxbridge.jobs.status import attention_q, sync_status
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import own_mailboxes
from inboxbridge.microsoft.config import office365_enabled

PAGE_SIZE = 100


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 or 503 with a JSON report; no sign-in (load balancers have none), nothing secret."""
    healthy, report = health(scope=request.GET.get("scope", "all"))
    return JsonResponse(report, status=200 if healthy else 503)


@admin_required
def mailbox_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    enabled = office365_enabled()
    attention = attention_q(enabled, now)
    only_attention = request.GET.get("show") == "attention"
    mailboxes = Mailbox.objects.select_related("owner").order_by("-active", "email_address", "id")
    if only_attention:
        mailboxes = mailboxes.filter(attention)
    page = Paginator(mailboxes, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = Mailbox.objects.aggregate(
        total=Count("id"), active_total=Count("id", filter=Q(active=True)),
        attention_total=Count("id", filter=attention),
    )
    return render(request, "jobs/mailbox_list.html", {
        "rows": [(mailbox, sync_status(mailbox, office365_enabled=enabled, now=now)) for mailbox in page],
        "page": page,
        "only_attention": only_attention,
        "totals": totals,
        "workers": WorkerHeartbeat.objects.order_by("role", "-seen_at")[:50],
    })


@admin_required
@require_POST
def mailbox_sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox, pk=pk)
    if sync_status(mailbox, office365_enabled=office365_enabled()).can_sync_now:
        request_sync(mailbox)
        messages.success(request, f"A sync of {mailbox} was requested.")
    else:
        messages.error(request, f"{mailbox} cannot be synchronized now.")
    # Back to the same page of the same list.
    query = urlencode({key: request.POST[key] for key in ("show", "page") if request.POST.get(key)})
    target = reverse("jobs:mailbox-list")
    return redirect(f"{target}?{query}" if query else target)


@login_required
@require_POST
def sync_now(request: AuthenticatedRequest) -> HttpResponse:
    """The owner's Sync now for one of their mailboxes, back to the page the card was on."""
    chosen = request.POST.get("mailbox", "")
    mailbox = own_mailboxes(request.user).filter(pk=int(chosen)).first() if chosen.isdigit() else None
    if mailbox is None or not sync_status(mailbox, office365_enabled=office365_enabled()).can_sync_now:
        messages.error(request, "This mailbox cannot be synchronized now.")
    else:
        request_sync(mailbox)
        messages.success(request, "A sync was requested.")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("mailboxes:email-configuration")
