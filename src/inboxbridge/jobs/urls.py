from __future__ import annotations

from django.urls import path

from inboxbridge.jobs import views

app_name = "jobs"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("system/mailboxes/", views.mailbox_list, name="mailbox-list"),
    path("system/mailboxes/<int:pk>/sync", views.mailbox_sync_now, name="mailbox-sync"),
    path("my/email-configuration/sync", views.sync_now, name="sync-now"),
]
