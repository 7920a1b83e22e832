from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inboxbridge.mailboxes.models import Mailbox


class OutgoingMessage(models.Model):
    """The outbox: one message a user wrote, from the row's creation until the server took it.

    The MIME bytes are built once, when the message is queued, so every attempt sends exactly the
    same message (same Message-ID): delivery is at-least-once, and a duplicate after a crash is
    recognisable as one."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class CopyState(models.TextChoices):
        PENDING = "pending", "Not saved yet"
        SAVED = "saved", "Saved"
        FAILED = "failed", "Not saved"

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="outgoing_messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="outgoing_messages")
    # The email answered (for In-Reply-To/References, already written into `mime`).
    reply_to_email = models.ForeignKey(
        "mail.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    to = models.JSONField(default=list, blank=True)  # [[name, address], ...] like mail.Email
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitised; empty for a plain-text message.")
    # What was attached, to list it: [{"filename", "content_type", "size", "sha256"}, ...]. The
    # bytes themselves are only in `mime` (see actions.queue_message).
    attachments = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=255, help_text="Without angle brackets.")
    mime = models.BinaryField(help_text="The message as submitted over SMTP (no Bcc header).")

    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the latest SMTP submission started: the per-mailbox rate limit counts these.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # While SENDING: past this, the worker is presumed dead and the message goes back to the queue.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # While QUEUED: when the task last enqueued for it should start (None: no task on its way).
    # The scheduler re-enqueues messages whose task never came (see actions.due_outgoing_messages).
    task_due_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    sent_copy = models.CharField(max_length=10, choices=CopyState.choices, default=CopyState.PENDING)
    sent_copy_error = models.TextField(blank=True)
    # While the copy is pending: when a worker takes it (again) if it is not saved by then. The
    # worker that sent the message saves it at once; past this, a stopped worker left it.
    copy_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["mailbox", "last_attempt_at"]),
            models.Index(fields=["author", "-created_at"]),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject or "(no subject)"

    @property
    def envelope_recipients(self) -> list[str]:
        """Every address the server must deliver to (Bcc included), each once."""
        seen: dict[str, str] = {}
        for _name, address in [*self.to, *self.cc, *self.bcc]:
            seen.setdefault(address.lower(), address)
        return list(seen.values())

    @property
    def can_retry(self) -> bool:
        return self.state == self.State.FAILED

    @property
    def can_save_copy_again(self) -> bool:
        return self.state == self.State.SENT and self.sent_copy == self.CopyState.FAILED

    @property
    def can_cancel(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.FAILED)


class SavedDraft(models.Model):
    """A message being written: saved while its author types (a row, so it outlives a closed tab
    and a restart), resumed from the Drafts list, deleted once sent or discarded. The fields keep
    what was typed, unvalidated: they are checked when the message is sent."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    bcc = models.TextField(blank=True)
    subject = models.TextField(blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    reply_to_email = models.ForeignKey("mail.Email", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    forward_of = models.ForeignKey("mail.Email", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    forward_as_attachment = models.BooleanField(default=False)
    kept_original_parts = models.JSONField(default=list, blank=True)  # ids of the forwarded message's parts
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["author", "-updated_at"])]

    def __str__(self) -> str:
        return self.subject or "(no subject)"


class DraftAttachment(models.Model):
    """A file uploaded into a draft: attached, or an image inserted into the text (it has a
    Content-ID then). Its content is a Blob of the attachment store (shared with received mail of
    the same content); housekeeping keeps a Blob a draft still names."""

    draft = models.ForeignKey(SavedDraft, on_delete=models.CASCADE, related_name="uploads")
    blob = models.ForeignKey("mail.Blob", on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField()
    # An inserted image, sent inline under this Content-ID (no angle brackets) while the HTML shows
    # it; empty for an attached file.
    content_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def inline(self) -> bool:
        return bool(self.content_id)


class Signature(models.Model):
    """The text inserted on Compose above the quoted message: a user's own, or a system mailbox's
    (used whoever writes from it). Plain text: the HTML body shows it with its line breaks."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="signature")
    mailbox = models.OneToOneField(Mailbox, null=True, blank=True, on_delete=models.CASCADE, related_name="signature")
    text = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=models.Q(user__isnull=True) ^ models.Q(mailbox__isnull=True), name="signature_of_one_owner",
        )]

    def __str__(self) -> str:
        return f"Signature of {self.user or self.mailbox}"
