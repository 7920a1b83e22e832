"""Included at the root: the Redirect URI registered in Azure must keep its path."""

from __future__ import annotations

from django.urls import path

from inboxbridge.microsoft import views

app_name = "microsoft"

SETTINGS = "system/configuration/integrations/microsoft/"

urlpatterns = [
    path("oauth2/microsoft/callback", views.callback, name="callback"),
    path(SETTINGS, views.settings_page, name="settings"),
    path(f"{SETTINGS}enable", views.enable_email_sync, name="enable"),
    path(f"{SETTINGS}disable", views.disable_email_sync, name="disable"),
    path(f"{SETTINGS}admin-consent", views.admin_consent, name="admin-consent"),
    path(f"{SETTINGS}certificate/upload", views.upload_certificate, name="certificate-upload"),
    path(f"{SETTINGS}certificate/generate", views.generate_certificate, name="certificate-generate"),
    path(f"{SETTINGS}certificate/remove", views.remove_certificate, name="certificate-remove"),
    path(f"{SETTINGS}certificate/download.<str:fmt>", views.download_certificate, name="certificate-download"),
]
