from __future__ import annotations

from django.db import models

from inboxbridge.mailboxes.models import Folder, Mailbox


class Thread(models.Model):
    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="threads")
    subject = models.TextField(blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["mailbox", "-last_message_at"])]

    def __str__(self) -> str:
        return self.subject or "(no subject)"


class Email(models.Model):
    """One message per Message-ID per mailbox, linked to every folder it is in.

    Search lives beside the model (inboxbridge.mail.search): an FTS5 table on SQLite, and on
    PostgreSQL a generated `search_vector` column that Django does not know about."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="emails")
    # The dedup key: the Message-ID, or a synthetic id, with a content suffix when the same Message-ID
    # arrives with different content.
    message_key = models.CharField(max_length=255)
    message_id = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails")
    in_reply_to = models.TextField(blank=True)
    references = models.TextField(blank=True)

    subject = models.TextField(blank=True)
    from_name = models.CharField(max_length=500, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)  # [[name, address], ...]
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)

    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=list, blank=True)
    size = models.PositiveIntegerField(default=0)
    has_attachments = models.BooleanField(default=False)
    truncated = models.BooleanField(default=False, help_text="A part over the size limit was not stored.")
    defects = models.JSONField(default=list, blank=True)

    is_seen = models.BooleanField(default=False)
    is_flagged = models.BooleanField(default=False)
    # Set when the user changed flags here and the server has not been told yet: sync keeps ours.
    flags_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "message_key"], name="unique_message_per_mailbox")]
        indexes = [
            models.Index(fields=["mailbox", "-received_at", "-id"]),
            models.Index(fields=["mailbox", "is_seen", "-received_at"]),
            # The Flagged filter: few rows, so a partial index instead of a scan of the whole mailbox.
            models.Index(fields=["mailbox", "-received_at", "-id"], condition=models.Q(is_flagged=True),
                         name="mail_email_flagged"),
            models.Index(fields=["thread", "sent_at"]),
        ]

    def __str__(self) -> str:
        return self.subject or "(no subject)"


class Placement(models.Model):
    """An email's presence in a folder, under the folder's UID."""

    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="placements")
    folder = models.ForeignKey(Folder, on_delete=models.CASCADE, related_name="placements")
    uid = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["folder", "uid"], name="unique_uid_per_folder")]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return f"{self.folder_id}:{self.uid}"


class Blob(models.Model):
    """Attachment content, stored once by SHA-256: in `data`, or (data NULL) in a file of the
    attachment store. Read it through inboxbridge.mail.blobs, which knows both."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    data = models.BinaryField(null=True)

    def __str__(self) -> str:
        return self.sha256


class Attachment(models.Model):
    email = models.ForeignKey(Email, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=500, blank=True)
    content_type = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=500, blank=True)
    inline = models.BooleanField(default=False)
    omitted = models.BooleanField(default=False, help_text="Over the size limit: listed, not stored.")
    blob = models.ForeignKey(Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.filename or self.content_type
