from __future__ import annotations

from django.urls import path

from inboxbridge.microsoft import views

app_name = "microsoft"

urlpatterns = [
    path("callback", views.callback, name="callback"),
]
