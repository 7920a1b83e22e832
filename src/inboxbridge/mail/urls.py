from __future__ import annotations

from django.urls import path

from inboxbridge.mail import views

app_name = "mail"

urlpatterns = [
    path("", views.email_list, name="list"),
    path("folders/<int:folder_id>/", views.email_list, name="folder"),
    path("threads/<int:thread_id>/", views.thread_detail, name="thread"),
    path("<int:email_id>/", views.email_detail, name="detail"),
    path("<int:email_id>/body/", views.email_body, name="body"),
    path("<int:email_id>/original/", views.email_original, name="original"),
    path("<int:email_id>/read-state/", views.set_read_state, name="set-read"),
    path("<int:email_id>/flag-state/", views.set_flag_state, name="set-flag"),
    # The parts that the cid: URLs of the HTML body point to, by the part's id: the sender's
    # Content-ID never becomes part of a path ("../../1/" would reach another page of the site).
    path("<int:email_id>/parts/<int:part_id>/", views.inline_image, name="inline"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
