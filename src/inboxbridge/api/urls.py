from __future__ import annotations

from django.urls import path

from inboxbridge.api import views

app_name = "api-tokens"

urlpatterns = [
    path("my/api-tokens/", views.token_list, name="list"),
    path("my/api-tokens/<int:pk>/revoke", views.revoke, name="revoke"),
]

