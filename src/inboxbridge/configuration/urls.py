from __future__ import annotations

from django.urls import path

from inboxbridge.configuration import views

app_name = "configuration"

# Microsoft Settings (integrations/microsoft/) are served by the microsoft app, Sign in with
# Microsoft (sign-in/) by the signin app.
urlpatterns = [
    path("other-mail-servers/", views.other_mail_servers, name="other-mail-servers"),
    path("system-information/", views.system_info, name="system-information"),
]
