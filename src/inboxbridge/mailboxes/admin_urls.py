"""The mailboxes app's administrator pages, under System > Configuration."""

from __future__ import annotations

from django.urls import path

from inboxbridge.mailboxes import views

app_name = "mailbox-settings"

urlpatterns = [
    path("other-mail-servers/", views.other_mail_servers, name="other-mail-servers"),
]
