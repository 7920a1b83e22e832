"""Under a system mailbox: .../system-mailboxes/<mailbox_pk>/autoresponse/ (see inboxbridge.urls)."""

from __future__ import annotations

from django.urls import path

from inboxbridge.autoresponse import views

app_name = "autoresponse"

urlpatterns = [
    path("", views.rules, name="rules"),
    path("add", views.edit_rule, name="add-rule"),
    path("<int:pk>/", views.edit_rule, name="rule"),
    path("<int:pk>/enabled", views.toggle_rule, name="toggle-rule"),
    path("<int:pk>/delete", views.delete_rule, name="delete-rule"),
]
