"""My Configuration > Notifications (the list and the choices), and System > Configuration >
Email Configuration > Application Email (administrators)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.mail import EmailMessage, get_connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.lib.redact import redact
from inboxbridge.notifications import actions, queries
from inboxbridge.notifications.forms import ApplicationEmailForm, PreferencesForm
from inboxbridge.sending import email_backend


@login_required
def notification_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "notifications/list.html", {"notifications": queries.notifications_of(request.user)})


@login_required
@require_POST
def mark_read(request: AuthenticatedRequest) -> HttpResponse:
    """One notification (its id posted) or all of them."""
    chosen = request.POST.get("notification", "")
    actions.mark_read(request.user, [int(chosen)] if chosen.isdigit() else None)
    return redirect("notifications:list")


@login_required
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, current=queries.preferences_of(request.user))
    if request.method == "POST" and form.is_valid():
        actions.save_preferences(request.user, form.choices())
        messages.success(request, "Your notification choices were saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html",
                  {"form": form, "has_email": bool(request.user.email)})


@admin_required
def application_email(request: AuthenticatedRequest) -> HttpResponse:
    from_environment = email_backend.set_by_environment()
    form = ApplicationEmailForm(request.POST or None, initial={"mailbox": email_backend.chosen_address().lower()})
    if request.method == "POST" and not from_environment and form.is_valid():
        actions.choose_application_mailbox(request.user, form.cleaned_data["mailbox"])
        messages.success(request, "Application email saved.")
        return redirect("notifications:application-email")
    context = {
        "form": form, "from_environment": from_environment, "address": email_backend.chosen_address(),
        "variable": email_backend.ENVIRONMENT_VARIABLE, "backend": settings.EMAIL_BACKEND,
        "ours": email_backend.sends_with_this_backend(), "problem": _sending_problem(),
    }
    return render(request, "notifications/application_email.html", context)


def _sending_problem() -> str:
    """Why the chosen mailbox cannot send now ("" when it can try)."""
    if not email_backend.sends_with_this_backend():
        return ""
    try:
        email_backend.application_mailbox()
    except email_backend.ApplicationEmailError as exc:
        return str(exc)
    return ""


@admin_required
@require_POST
def send_test_email(request: AuthenticatedRequest) -> HttpResponse:
    """Send a test email to the administrator now, and say how it went."""
    if not request.user.email:
        messages.error(request, "Your account has no email address to send the test email to.")
        return redirect("notifications:application-email")
    test = EmailMessage("inboxbridge test email", "This test email was sent by inboxbridge's Application Email page.",
                        to=[request.user.email], headers={"Auto-Submitted": "auto-generated"})
    try:
        get_connection(fail_silently=False).send_messages([test])
    except email_backend.ApplicationEmailError as exc:
        messages.error(request, str(exc))
    except OSError as exc:  # another backend's relay (smtplib's errors are OSErrors)
        messages.error(request, f"The test email was not sent: {redact(str(exc))}")
    else:
        messages.success(request, f"A test email was sent to {request.user.email}.")
    return redirect("notifications:application-email")
