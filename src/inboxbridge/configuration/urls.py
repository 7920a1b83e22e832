from __future__ import annotations

from django.urls import path

from inboxbridge.configuration import views

app_name = "configuration"

# Microsoft Settings (integrations/microsoft/) are served by the microsoft app, Sign in with
# Microsoft (sign-in/) by the signin app, Other Mail Servers by the mailboxes app.
urlpatterns = [
    path("system-information/", views.system_info, name="system-information"),
]
