from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from inboxbridge.lib.fields import EncryptedTextField


class Mailbox(models.Model):
    """A mailbox synchronized into the application: a user's own, or a system mailbox (no owner)."""

    class AccountType(models.TextChoices):
        OFFICE365 = "office365", "Office 365"
        # A shared mailbox opened with the token of a person who holds Full Access on it (Exchange's
        # delegation); they send as it with Send As.
        OFFICE365_SHARED = "office365_shared", "Office 365 shared mailbox (delegate)"
        # The application's own credential (client credentials), granted the mailbox in Exchange.
        OFFICE365_APP = "office365_app", "Office 365 (app-only)"
        OTHER = "other", "Other"

    class State(models.TextChoices):
        NEW = "new", "Waiting for the first sync"
        SYNCING = "syncing", "Syncing"
        IDLE = "idle", "Up to date"
        ERROR = "error", "Error"
        DISABLED = "disabled", "Disabled"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="mailboxes"
    )
    # The Mailbox Label: required and unique for system mailboxes (see Meta), optional for a user's own.
    label = models.CharField(max_length=200, blank=True)
    email_address = models.EmailField(max_length=320)
    account_type = models.CharField(max_length=20, choices=AccountType.choices)
    active = models.BooleanField(default=True, help_text="False once disconnected (mail may be purging).")

    # Office 365: who signed in (from the verified id_token) and their MSAL token cache.
    ms_oid = models.CharField(max_length=64, blank=True)
    ms_tid = models.CharField(max_length=64, blank=True)
    ms_home_account_id = models.CharField(max_length=140, blank=True)
    token_cache = EncryptedTextField(blank=True)
    token_fingerprint = models.CharField(max_length=64, blank=True)
    # Who signed in at Microsoft for the mailbox (the delegate of a shared mailbox; the mailbox's
    # own account otherwise), and which user of ours did it: a delegate's authorization ends when
    # that person leaves, and the mailbox is then reconnected with another delegate.
    signed_in_as = models.CharField(max_length=320, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Other: IMAP and SMTP with a password.
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(null=True, blank=True)
    imap_ssl = models.BooleanField(default=True)
    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(null=True, blank=True)
    smtp_security = models.CharField(max_length=10, default="starttls", blank=True)  # ssl | starttls | none
    username = models.CharField(max_length=320, blank=True)
    password = EncryptedTextField(blank=True)

    # None = all mail; N = only the last N days on the first sync of a folder.
    initial_sync_days = models.PositiveIntegerField(null=True, blank=True)
    # Mail from this day on is synced (a system mailbox starts at the day it was set up unless an
    # earlier date is picked); None = as initial_sync_days says.
    sync_from = models.DateField(null=True, blank=True)
    # The folder a sent message's copy is filed in ("" = the server's \Sent folder, or one named Sent).
    sent_folder_name = models.CharField(max_length=1000, blank=True)

    sync_enabled = models.BooleanField(default=True)
    needs_reconnect = models.BooleanField(default=False)
    reconnect_reason = models.CharField(max_length=500, blank=True)

    state = models.CharField(max_length=20, choices=State.choices, default=State.NEW)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    message_count = models.PositiveIntegerField(default=0)
    backlog = models.PositiveIntegerField(default=0, help_text="Messages known on the server, not yet synced.")

    # Scheduling: the scheduler claims due mailboxes with a lease so one sync runs per mailbox fleet-wide.
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    failure_count = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=100, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    # Access Management of a system mailbox: who besides the administrators may read its mail
    # (the one rule that reads these is inboxbridge.mail.queries.visible_mailboxes).
    authorized_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="authorized_mailboxes"
    )
    authorized_roles = models.ManyToManyField(Group, blank=True, related_name="authorized_mailboxes")

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # A user may connect several mailboxes (their own, shared ones they delegate for), each once.
            models.UniqueConstraint(
                fields=["owner", "email_address"], condition=Q(active=True, owner__isnull=False),
                name="unique_user_mailbox_email",
                violation_error_message="You have already connected this mailbox.",
            ),
            models.CheckConstraint(condition=Q(owner__isnull=False) | ~Q(label=""), name="system_mailbox_has_label"),
            # Among the system mailboxes in use; a deleted one whose mail was kept frees its label and address.
            models.UniqueConstraint(
                fields=["label"], condition=Q(active=True, owner__isnull=True), name="unique_system_mailbox_label",
                violation_error_message="A system mailbox with this label already exists.",
            ),
            models.UniqueConstraint(
                fields=["email_address"], condition=Q(active=True, owner__isnull=True),
                name="unique_system_mailbox_email",
                violation_error_message="A system mailbox with this email address already exists.",
            ),
        ]
        permissions = [("receive_mailbox_alerts", "Can receive mailbox alerts")]

    def __str__(self) -> str:
        return self.label or self.email_address

    @property
    def is_system(self) -> bool:
        return self.owner_id is None

    @property
    def is_office365(self) -> bool:
        return self.account_type in OFFICE365_KINDS


OFFICE365_KINDS = frozenset({Mailbox.AccountType.OFFICE365, Mailbox.AccountType.OFFICE365_SHARED,
                             Mailbox.AccountType.OFFICE365_APP})


class Folder(models.Model):
    """A server folder and the sync position in it."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="folders")
    name = models.CharField(max_length=1000, help_text="The IMAP name, as the server spells it.")
    display_name = models.CharField(max_length=1000)
    delimiter = models.CharField(max_length=4, blank=True)
    special_use = models.CharField(max_length=20, blank=True)  # \Sent, \Trash, \Drafts, \Junk, \Archive, \Inbox
    selected = models.BooleanField(default=False, help_text="Chosen by the owner for synchronization.")
    exists_on_server = models.BooleanField(default=True)

    uidvalidity = models.BigIntegerField(null=True, blank=True)
    last_uid = models.BigIntegerField(default=0, help_text="Highest UID stored.")
    uidnext = models.BigIntegerField(null=True, blank=True)
    messages = models.BigIntegerField(null=True, blank=True)
    highestmodseq = models.BigIntegerField(null=True, blank=True)
    sync_since = models.DateField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Its unread emails, for My Emails: counted again after every sync run that changed mail and
    # kept in step with the reader's own clicks (inboxbridge.mail.actions), not counted per page.
    unread_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mailbox", "name"], name="unique_folder_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name
