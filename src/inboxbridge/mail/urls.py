from __future__ import annotations

from django.urls import path

from inboxbridge.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.email_list, name="list"),
]
