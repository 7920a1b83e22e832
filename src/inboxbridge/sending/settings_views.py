"""Signatures: a user's own (My Configuration > Signature) and a system mailbox's (administrators,
linked from the mailbox's page). Compose inserts the one that goes with the From choice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sending import actions
from inboxbridge.sending.forms import SignatureForm
from inboxbridge.sending.models import Signature


@login_required
def my_signature(request: AuthenticatedRequest) -> HttpResponse:
    current = Signature.objects.filter(user=request.user).first()
    form = SignatureForm(request.POST or None, initial={"signature": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        actions.save_signature(text=form.cleaned_data["signature"], user=request.user)
        messages.success(request, "Your signature is saved. New messages start with it.")
        return redirect("sending:signature")
    return render(request, "sending/signature.html", {"form": form, "mailbox": None})


@admin_required
def mailbox_signature(request: AuthenticatedRequest, mailbox_id: int) -> HttpResponse:
    mailbox = get_object_or_404(Mailbox.objects.filter(owner__isnull=True), pk=mailbox_id)
    current = Signature.objects.filter(mailbox=mailbox).first()
    form = SignatureForm(request.POST or None, initial={"signature": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        actions.save_signature(text=form.cleaned_data["signature"], mailbox=mailbox)
        messages.success(request, f"The signature of {mailbox.label} is saved. Messages sent from it start with it.")
        return redirect("sending:mailbox-signature", mailbox_id=mailbox.pk)
    return render(request, "sending/signature.html", {"form": form, "mailbox": mailbox})
