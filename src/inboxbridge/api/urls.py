from __future__ import annotations

from django.urls import path

from inboxbridge.api import connect_views, views

app_name = "api-tokens"

urlpatterns = [
    path("my/api-tokens/", views.token_list, name="list"),
    path("my/api-tokens/<int:pk>/revoke", views.revoke, name="revoke"),
    # A connect link (POST /api/v1/mailboxes/connect-links): its secret is the last part.
    path("connect/<str:secret>", connect_views.connect_link, name="connect-link"),
]
