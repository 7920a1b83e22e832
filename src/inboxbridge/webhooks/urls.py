from __future__ import annotations

from django.urls import include, path

from inboxbridge.webhooks import views

mine = [
    path("", views.endpoints, name="list"),
    path("<int:pk>/", views.endpoint, name="endpoint"),
    path("<int:pk>/rotate", views.rotate, name="rotate"),
    path("<int:pk>/delete", views.delete, name="delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/resend", views.resend, name="resend"),
]
system = [
    path("", views.system_endpoints, name="list"),
    path("<int:pk>/", views.system_endpoint, name="endpoint"),
    path("<int:pk>/rotate", views.system_rotate, name="rotate"),
    path("<int:pk>/delete", views.system_delete, name="delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/resend", views.system_resend, name="resend"),
]

urlpatterns = [
    path("my/webhooks/", include((mine, "webhooks"))),
    path("system/configuration/integrations/webhooks/", include((system, "system-webhooks"))),
]
