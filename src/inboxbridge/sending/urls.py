from __future__ import annotations

from django.urls import path

from inboxbridge.sending import views

app_name = "sending"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("compose/", views.compose, name="compose"),
    path("reply/<int:email_id>/", views.reply, name="reply"),
    path("reply-all/<int:email_id>/", views.reply_all, name="reply-all"),
    path("<int:message_id>/", views.outgoing_detail, name="detail"),
    path("<int:message_id>/retry/", views.retry, name="retry"),
    path("<int:message_id>/cancel/", views.cancel, name="cancel"),
    path("<int:message_id>/save-copy/", views.save_copy, name="save-copy"),
]
