from __future__ import annotations

from django.urls import path

from inboxbridge.signin import views

app_name = "signin"

urlpatterns = [
    path("accounts/microsoft/", views.start, name="start"),
    path("my/sign-in/", views.mine, name="mine"),
    path("my/sign-in/link/", views.link, name="link"),
    path("my/sign-in/link/confirm/", views.confirm, name="confirm"),
    path("my/sign-in/<int:login_id>/unlink/", views.unlink, name="unlink"),
    path("system/configuration/sign-in/", views.settings_page, name="settings"),
]
