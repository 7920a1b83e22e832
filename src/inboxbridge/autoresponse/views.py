"""System > Configuration > Email Configuration > System Mailboxes > a mailbox > Autoresponse Rules
(administrators only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.accounts.types import AuthenticatedRequest
from inboxbridge.autoresponse import actions, queries
from inboxbridge.autoresponse.forms import RuleForm
from inboxbridge.autoresponse.models import Rule
from inboxbridge.mailboxes.models import Mailbox

LIST = "autoresponse:rules"


def _mailbox(pk: int) -> Mailbox:
    return get_object_or_404(Mailbox, pk=pk, owner__isnull=True, active=True)


def _rule(mailbox: Mailbox, pk: int) -> Rule:
    return get_object_or_404(Rule.objects.select_related("mailbox", "author"), pk=pk, mailbox=mailbox)


@admin_required
def rules(request: AuthenticatedRequest, mailbox_pk: int) -> HttpResponse:
    mailbox = _mailbox(mailbox_pk)
    return render(request, "autoresponse/rules.html",
                  {"mailbox": mailbox, "rules": queries.system_mailbox_rules(mailbox)})


@admin_required
def edit_rule(request: AuthenticatedRequest, mailbox_pk: int, pk: int | None = None) -> HttpResponse:
    """Add (no pk) or Edit a rule; the edit page lists the rule's last answers."""
    mailbox = _mailbox(mailbox_pk)
    rule = _rule(mailbox, pk) if pk is not None else Rule(mailbox=mailbox)
    form = RuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = actions.save_rule(request.user, form.save(commit=False))
        messages.success(request, f"Autoresponse rule {saved.name} saved.")
        return redirect("autoresponse:rule", mailbox_pk=mailbox.pk, pk=saved.pk)
    context = {"mailbox": mailbox, "rule": rule, "form": form,
               "answers": queries.last_answers(rule) if rule.pk else []}
    return render(request, "autoresponse/rule.html", context, status=400 if request.method == "POST" else 200)


@admin_required
@require_POST
def toggle_rule(request: AuthenticatedRequest, mailbox_pk: int, pk: int) -> HttpResponse:
    rule = _rule(_mailbox(mailbox_pk), pk)
    enable = request.POST.get("enabled") == "1"
    if actions.set_rule_enabled(request.user, rule, enable):
        state = "enabled: it answers the mail that arrives from now on" if enable else "disabled"
        messages.success(request, f"Autoresponse rule {rule.name} {state}.")
    return redirect(LIST, mailbox_pk=mailbox_pk)


@admin_required
@require_POST
def delete_rule(request: AuthenticatedRequest, mailbox_pk: int, pk: int) -> HttpResponse:
    rule = _rule(_mailbox(mailbox_pk), pk)
    name = rule.name
    actions.delete_rule(request.user, rule)
    messages.success(request, f"Autoresponse rule {name} deleted.")
    return redirect(LIST, mailbox_pk=mailbox_pk)
