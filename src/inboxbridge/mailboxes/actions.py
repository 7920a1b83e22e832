"""Writes of the mailboxes app: each in one transaction; the views and the sync engine call these.
They return what changed; the caller enqueues what follows (tasks.purge_on_commit for the mail of a
retired mailbox)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from inboxbridge.accounts.actions import record_audit_event
from inboxbridge.configuration.actions import save_options
from inboxbridge.mailboxes import options
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailboxes.queries import SERVER_CHECK
from inboxbridge.microsoft.client import SignedInIdentity

logger = logging.getLogger(__name__)

# Emails of a retired mailbox deleted per transaction: a big mailbox must not hold the write lock for minutes.
PURGE_BATCH = 500


@dataclass(frozen=True)
class Saved:
    """A user's mailbox after a write, and the id of the mailbox it retired whose synced mail is to
    be deleted in the background (None: nothing to delete)."""

    mailbox: Mailbox
    purge_id: int | None = None


def active_mailbox_of(user: User) -> Mailbox | None:
    return Mailbox.objects.filter(owner=user, active=True).first()


@transaction.atomic
def connect_office365_mailbox(
    user: User, identity: SignedInIdentity, token_cache: str, fingerprint: str
) -> Saved:
    """Create the user's Office 365 mailbox, or reconnect the existing one (same account: nothing
    is lost; another account: the old mailbox is retired and its mail purged in the background)."""
    current = Mailbox.objects.select_for_update().filter(owner=user, active=True).first()
    same_account = current is not None and current.account_type == Mailbox.AccountType.OFFICE365 and (
        (current.ms_oid and current.ms_oid == identity.oid and current.ms_tid == identity.tid)
        or (not current.ms_oid and current.email_address.lower() == identity.username.lower())
    )
    retired = None
    if current is not None and not same_account:
        retired = _retire(current, delete_mail=True)
        current = None
    mailbox = current or Mailbox(owner=user, account_type=Mailbox.AccountType.OFFICE365)
    mailbox.email_address = identity.username
    mailbox.ms_oid, mailbox.ms_tid, mailbox.ms_home_account_id = identity.oid, identity.tid, identity.home_account_id
    mailbox.token_cache, mailbox.token_fingerprint = token_cache, fingerprint
    mailbox.needs_reconnect, mailbox.reconnect_reason = False, ""
    mailbox.sync_enabled = True
    if mailbox.state in {Mailbox.State.DISABLED, Mailbox.State.ERROR}:
        mailbox.state = Mailbox.State.IDLE if mailbox.last_success_at else Mailbox.State.NEW
        mailbox.last_error = ""
    mailbox.failure_count = 0
    mailbox.next_sync_at = timezone.now()
    mailbox.save()
    record_audit_event(user, "mailbox.connected", mailbox.email_address, reconnect=current is not None)
    return Saved(mailbox, retired)


@transaction.atomic
def save_other_account(user: User, **fields: object) -> Saved:
    current = Mailbox.objects.select_for_update().filter(owner=user, active=True).first()
    retired = None
    if current is not None and current.account_type != Mailbox.AccountType.OTHER:
        retired = _retire(current, delete_mail=True)
        current = None
    mailbox = current or Mailbox(owner=user, account_type=Mailbox.AccountType.OTHER)
    for name, value in fields.items():
        if name == "password" and not value:
            continue  # empty means keep the stored password
        setattr(mailbox, name, value)
    mailbox.needs_reconnect, mailbox.reconnect_reason, mailbox.sync_enabled = False, "", True
    mailbox.next_sync_at = timezone.now()
    mailbox.save()
    record_audit_event(user, "mailbox.configured", mailbox.email_address, account_type="other")
    return Saved(mailbox, retired)


def record_server_check(user: User, candidate: Mailbox) -> None:
    """Audit a live check of Other mail servers (which hosts a user made this server contact); the
    check's rate limit counts these."""
    record_audit_event(user, SERVER_CHECK, candidate.email_address,
                       imap=f"{candidate.imap_host}:{candidate.imap_port}",
                       smtp=f"{candidate.smtp_host}:{candidate.smtp_port}")


@transaction.atomic
def require_reconnect(mailbox: Mailbox, reason: str) -> None:
    """Microsoft refused the refresh token: stop syncing and tell the owner."""
    updated = Mailbox.objects.filter(pk=mailbox.pk, needs_reconnect=False).update(
        needs_reconnect=True, reconnect_reason=reason[:500], state=Mailbox.State.DISABLED, last_error=reason
    )
    mailbox.needs_reconnect, mailbox.reconnect_reason, mailbox.state = True, reason[:500], Mailbox.State.DISABLED
    if updated:
        logger.warning("Mailbox %s needs the owner to reconnect: %s", mailbox.pk, reason)
        record_audit_event(None, "mailbox.reconnect_required", mailbox.email_address, reason=reason)


def _retire(mailbox: Mailbox, *, delete_mail: bool) -> int | None:
    """Stop the mailbox for good; returns its id when its mail is to be deleted."""
    mailbox.active = False
    mailbox.sync_enabled = False
    mailbox.token_cache = ""
    mailbox.password = ""
    mailbox.state = Mailbox.State.DISABLED
    mailbox.save()
    return mailbox.pk if delete_mail else None


@transaction.atomic
def disconnect_mailbox(user: User, mailbox: Mailbox, *, delete_mail: bool) -> Saved:
    """Stop syncing and forget the tokens. Kept mail stays readable; deleted mail goes in the background."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    retired = _retire(locked, delete_mail=delete_mail)
    record_audit_event(user, "mailbox.disconnected", locked.email_address, delete_mail=delete_mail)
    return Saved(locked, retired)


def purge_retired_mailbox(mailbox_id: int) -> int:
    """Delete a retired mailbox with its synced mail, the emails in small transactions first. Safe to
    run again after a crash; returns how many emails were deleted.

    The emails are reached through the relation the mail app declares on them (Email.mailbox,
    related_name "emails"), as deleting the mailbox row would cascade to them in one transaction."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=False).first()
    if mailbox is None:
        return 0
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(mailbox.emails.values_list("pk", flat=True)[:PURGE_BATCH])
            if not ids:
                break
            mailbox.emails.filter(pk__in=ids).delete()
            deleted += len(ids)
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox_id, active=False).delete()
    return deleted


@transaction.atomic
def update_folders(mailbox: Mailbox, remote: Iterable[tuple[str, str, str, str]]) -> list[Folder]:
    """Record the server's folder tree: (name, display_name, delimiter, special_use) per folder.
    Folders gone from the server are marked, not deleted, so their mail is not lost by accident."""
    seen: set[str] = set()
    for name, display_name, delimiter, special_use in remote:
        seen.add(name)
        Folder.objects.update_or_create(
            mailbox=mailbox,
            name=name,
            defaults={"display_name": display_name, "delimiter": delimiter, "special_use": special_use,
                      "exists_on_server": True},
        )
    Folder.objects.filter(mailbox=mailbox).exclude(name__in=seen).update(exists_on_server=False)
    return list(Folder.objects.filter(mailbox=mailbox, exists_on_server=True))


@transaction.atomic
def select_folders(user: User, mailbox: Mailbox, folder_ids: Iterable[int], initial_sync_days: int | None = None,
                   *, sync_from: date | None = None, sent_folder_name: str | None = None) -> None:
    """Save which folders sync, from when (`sync_from` a day, or `initial_sync_days` back from
    today, or neither: all mail) and where sent mail's copy goes (None: unchanged; "": automatic).
    The start applies to folders not synced yet; a folder already synced keeps its mail."""
    ids = set(folder_ids)
    today = timezone.localdate()
    since = sync_from or (today - timedelta(days=initial_sync_days) if initial_sync_days else None)
    for folder in Folder.objects.select_for_update().filter(mailbox=mailbox):
        selected = folder.pk in ids
        # Never synced: newly ticked, or ticked before but its first sync has not run yet.
        if selected and folder.last_uid == 0 and (not folder.selected or folder.uidvalidity is None):
            folder.sync_since = since
        folder.selected = selected
        folder.save(update_fields=["selected", "sync_since"])
    mailbox.initial_sync_days, mailbox.sync_from = (None, sync_from) if sync_from else (initial_sync_days, None)
    fields = ["initial_sync_days", "sync_from", "next_sync_at"]
    if sent_folder_name is not None:
        mailbox.sent_folder_name = sent_folder_name
        fields.append("sent_folder_name")
    mailbox.next_sync_at = timezone.now()
    mailbox.save(update_fields=fields)
    record_audit_event(user, "mailbox.folders_selected", mailbox.email_address, folders=len(ids),
                       sync_from=str(since or "all mail"), sent_folder=mailbox.sent_folder_name or "automatic")


def save_other_accounts_settings(actor: User, *, enabled: bool, allowed_hosts: list[str]) -> list[str]:
    """Whether users may add Other accounts, and to which servers; returns the labels that changed."""
    return save_options(actor, {options.OTHER_ACCOUNTS_ENABLED: "1" if enabled else "0",
                                options.OTHER_ACCOUNTS_ALLOWED_HOSTS: ", ".join(allowed_hosts)},
                        audit="other_accounts.settings_changed")


@transaction.atomic
def save_system_mailbox(actor: User, mailbox: Mailbox, *, authorized_users: Iterable[User],
                        authorized_roles: Iterable[Group]) -> Mailbox:
    """Add a system mailbox, or change its General settings and Access Management."""
    created = mailbox.pk is None
    mailbox.owner = None
    mailbox.save()
    mailbox.authorized_users.set(authorized_users)
    mailbox.authorized_roles.set(authorized_roles)
    record_audit_event(actor, "system_mailbox.added" if created else "system_mailbox.changed", mailbox.email_address,
                       label=mailbox.label, users=sorted(u.get_username() for u in mailbox.authorized_users.all()),
                       roles=sorted(g.name for g in mailbox.authorized_roles.all()))
    return mailbox


@transaction.atomic
def save_system_other_account(actor: User, mailbox: Mailbox, **fields: object) -> Mailbox:
    """The IMAP and SMTP settings of a system mailbox of type Other (its address is its General
    settings' Email; an empty password keeps the stored one)."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk, owner__isnull=True, active=True)
    fields.pop("email_address", None)
    for name, value in fields.items():
        if name == "password" and not value:
            continue
        setattr(locked, name, value)
    locked.needs_reconnect, locked.reconnect_reason, locked.sync_enabled = False, "", True
    locked.next_sync_at = timezone.now()
    locked.save()
    record_audit_event(actor, "system_mailbox.configured", locked.email_address, account_type="other")
    return locked


class WrongAccount(ValueError):
    """Microsoft's sign-in was another account than the system mailbox's address."""


@transaction.atomic
def connect_system_office365_mailbox(actor: User, mailbox_id: int, identity: SignedInIdentity, token_cache: str,
                                     fingerprint: str) -> Mailbox:
    """Connect a system mailbox of type Office 365 to its own account; the sign-in must be that
    mailbox (an administrator's own account would otherwise read their mail into it)."""
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox_id, owner__isnull=True, active=True)
    if identity.username.lower() != mailbox.email_address.lower():
        raise WrongAccount(f"Microsoft signed in {identity.username or 'an account without a name'}, not "
                           f"{mailbox.email_address}: sign in as the mailbox itself.")
    mailbox.ms_oid, mailbox.ms_tid, mailbox.ms_home_account_id = identity.oid, identity.tid, identity.home_account_id
    mailbox.token_cache, mailbox.token_fingerprint = token_cache, fingerprint
    mailbox.needs_reconnect, mailbox.reconnect_reason, mailbox.sync_enabled = False, "", True
    mailbox.failure_count = 0
    mailbox.next_sync_at = timezone.now()
    mailbox.save()
    record_audit_event(actor, "system_mailbox.connected", mailbox.email_address, label=mailbox.label)
    return mailbox


@transaction.atomic
def delete_system_mailbox(actor: User, mailbox: Mailbox, *, delete_mail: bool) -> Saved:
    """Stop a system mailbox for good. Kept mail stays readable to the same people; deleted mail
    (and the mailbox) goes in the background."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk, owner__isnull=True)
    retired = _retire(locked, delete_mail=delete_mail)
    record_audit_event(actor, "system_mailbox.deleted", locked.email_address, label=locked.label,
                       delete_mail=delete_mail)
    return Saved(locked, retired)
