from __future__ import annotations

from django.urls import path

from inboxbridge.mailboxes import views

app_name = "mailboxes"

urlpatterns = [
    path("email-configuration/", views.email_configuration, name="email-configuration"),
    path("email-configuration/connect", views.connect, name="connect"),
    path("email-configuration/disconnect", views.disconnect, name="disconnect"),
    path("email-configuration/other", views.save_other, name="save-other"),
    path("email-configuration/folders/retrieve", views.retrieve_folders, name="retrieve-folders"),
    path("email-configuration/folders", views.save_folders, name="save-folders"),
]
