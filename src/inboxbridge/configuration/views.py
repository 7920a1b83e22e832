"""System Information (System > Configuration). The integrations' own settings pages live in their apps:
Microsoft Settings in microsoft/, Sign in with Microsoft in signin/, Other Mail Servers in mailboxes/."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inboxbridge.accounts.permissions import admin_required
from inboxbridge.configuration.system_info import system_information


@admin_required
def system_info(request: HttpRequest) -> HttpResponse:
    return render(request, "configuration/system_information.html", {"rows": system_information()})
