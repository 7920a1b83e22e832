from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from inboxbridge.api.rest import api


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("mail:list")


urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("inboxbridge.accounts.urls")),
    path("", include("inboxbridge.signin.urls")),
    path("", include("inboxbridge.microsoft.urls")),
    path("system/configuration/", include("inboxbridge.configuration.urls")),
    path("system/configuration/", include("inboxbridge.mailboxes.admin_urls")),
    path("system/configuration/email-configuration/system-mailboxes/<int:mailbox_pk>/autoresponse/",
         include("inboxbridge.autoresponse.urls")),
    path("my/", include("inboxbridge.mailboxes.urls")),
    path("mail/outbox/", include("inboxbridge.sending.urls")),
    path("", include("inboxbridge.notifications.urls")),
    path("mail/", include("inboxbridge.mail.urls")),
    path("", include("inboxbridge.jobs.urls")),
    path("", include("inboxbridge.api.urls")),
    path("", include("inboxbridge.webhooks.urls")),
    path("api/v1/", api.urls),
]
