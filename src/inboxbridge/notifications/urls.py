from __future__ import annotations

from django.urls import path

from inboxbridge.notifications import views

app_name = "notifications"

urlpatterns = [
    path("my/notifications/", views.notification_list, name="list"),
    path("my/notifications/read", views.mark_read, name="mark-read"),
    path("my/notifications/settings", views.preferences, name="preferences"),
    path("system/configuration/email-configuration/application-email/", views.application_email,
         name="application-email"),
    path("system/configuration/email-configuration/application-email/test", views.send_test_email,
         name="test-email"),
]
