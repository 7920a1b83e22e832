from __future__ import annotations

from django.urls import path

from inboxbridge.configuration import views

app_name = "configuration"

urlpatterns = [
    path("integrations/microsoft/", views.microsoft_settings, name="microsoft"),
    path("integrations/microsoft/enable", views.enable_email_sync, name="microsoft-enable"),
    path("integrations/microsoft/disable", views.disable_email_sync, name="microsoft-disable"),
    path("integrations/microsoft/admin-consent", views.admin_consent, name="microsoft-admin-consent"),
    path("other-mail-servers/", views.other_mail_servers, name="other-mail-servers"),
    path("system-information/", views.system_info, name="system-information"),
]
