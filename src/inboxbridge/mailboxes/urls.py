from __future__ import annotations

from django.urls import path

from inboxbridge.mailboxes import mailbox_views, views

app_name = "mailboxes"

urlpatterns = [
    path("email-configuration/", views.email_configuration, name="email-configuration"),
    path("email-configuration/connect", views.connect, name="connect"),
    path("email-configuration/shared", views.connect_shared, name="connect-shared"),
    path("email-configuration/other", views.save_other, name="save-other"),
    path("email-configuration/<int:pk>/", mailbox_views.mailbox_page, name="mailbox"),
    path("email-configuration/<int:pk>/reconnect", mailbox_views.reconnect, name="reconnect"),
    path("email-configuration/<int:pk>/disconnect", mailbox_views.disconnect, name="disconnect"),
    path("email-configuration/<int:pk>/other", mailbox_views.save_other, name="mailbox-other"),
    path("email-configuration/<int:pk>/folders/retrieve", mailbox_views.retrieve_folders, name="retrieve-folders"),
    path("email-configuration/<int:pk>/folders", mailbox_views.save_folders, name="save-folders"),
]
