"""The mailboxes app's administrator pages, under System > Configuration."""

from __future__ import annotations

from django.urls import path

from inboxbridge.mailboxes import app_only_views, system_views, views

app_name = "mailbox-settings"

urlpatterns = [
    path("other-mail-servers/", views.other_mail_servers, name="other-mail-servers"),
    path("email-configuration/system-mailboxes/", system_views.system_mailboxes, name="system-mailboxes"),
    path("email-configuration/system-mailboxes/add", system_views.edit_system_mailbox, name="add-system-mailbox"),
    path("email-configuration/system-mailboxes/<int:pk>/", system_views.edit_system_mailbox, name="system-mailbox"),
    path("email-configuration/system-mailboxes/<int:pk>/delete", system_views.delete_system_mailbox,
         name="delete-system-mailbox"),
    path("email-configuration/system-mailboxes/<int:pk>/connect", system_views.connect_system_mailbox,
         name="system-mailbox-connect"),
    path("email-configuration/system-mailboxes/<int:pk>/other", system_views.save_system_other,
         name="system-mailbox-other"),
    path("email-configuration/system-mailboxes/<int:pk>/folders/retrieve", system_views.retrieve_system_folders,
         name="system-mailbox-retrieve-folders"),
    path("email-configuration/system-mailboxes/<int:pk>/folders", system_views.save_system_folders,
         name="system-mailbox-folders"),
    # App-only (client credentials) system mailboxes.
    path("email-configuration/system-mailboxes/<int:pk>/app-only/object-id", app_only_views.save_object_id,
         name="system-mailbox-app-object-id"),
    path("email-configuration/system-mailboxes/<int:pk>/app-only/test", app_only_views.check_connection,
         name="system-mailbox-app-test"),
    path("email-configuration/system-mailboxes/<int:pk>/app-only/admin-consent", app_only_views.admin_consent,
         name="system-mailbox-app-consent"),
]
