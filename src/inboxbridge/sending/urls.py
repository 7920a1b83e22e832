from __future__ import annotations

from django.urls import path

from inboxbridge.sending import compose_views, image_views, settings_views, views

app_name = "sending"

urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("compose/", compose_views.compose, name="compose"),
    path("reply/<int:email_id>/", compose_views.reply, name="reply"),
    path("reply-all/<int:email_id>/", compose_views.reply_all, name="reply-all"),
    path("forward/<int:email_id>/", compose_views.forward, name="forward"),
    path("drafts/", compose_views.drafts, name="drafts"),
    path("drafts/<int:draft_id>/", compose_views.draft, name="draft"),
    path("drafts/<int:draft_id>/discard/", compose_views.discard_draft, name="discard-draft"),
    path("drafts/<int:draft_id>/images/<int:upload_id>/", image_views.draft_image, name="draft-image"),
    path("addresses/", compose_views.address_suggestions, name="address-suggestions"),
    path("signature/", settings_views.my_signature, name="signature"),
    path("signature/mailbox/<int:mailbox_id>/", settings_views.mailbox_signature, name="mailbox-signature"),
    path("<int:message_id>/", views.outgoing_detail, name="detail"),
    path("<int:message_id>/retry/", views.retry, name="retry"),
    path("<int:message_id>/cancel/", views.cancel, name="cancel"),
    path("<int:message_id>/save-copy/", views.save_copy, name="save-copy"),
]
