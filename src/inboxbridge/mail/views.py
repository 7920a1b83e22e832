from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inboxbridge.mail.models import Email


@login_required
def email_list(request: HttpRequest) -> HttpResponse:
    emails = Email.objects.filter(mailbox__owner=request.user).order_by("-received_at", "-id")[:50]
    return render(request, "mail/list.html", {"emails": emails})
