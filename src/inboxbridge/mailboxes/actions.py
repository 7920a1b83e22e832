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
from inboxbridge.events.actions import record_event
from inboxbridge.events.models import EventType
from inboxbridge.mailboxes import messages, options
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailboxes.queries import SERVER_CHECK, connected_already
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


class AlreadyConnected(ValueError):
    """The user has connected this address already (constraint unique_user_mailbox_email)."""


class WrongAccount(ValueError):
    """Microsoft's sign-in was another account than the mailbox being connected needs."""


def _refuse_duplicate(owner: User, address: str, *, exclude_pk: int | None = None) -> None:
    if connected_already(owner, address, exclude_pk=exclude_pk):
        raise AlreadyConnected(messages.already_connected(address))


def _same_account(mailbox: Mailbox, identity: SignedInIdentity) -> bool:
    if mailbox.ms_oid:
        return mailbox.ms_oid == identity.oid and mailbox.ms_tid == identity.tid
    return mailbox.email_address.lower() == identity.username.lower()


def _store_sign_in(mailbox: Mailbox, actor: User, identity: SignedInIdentity, token_cache: str,
                   fingerprint: str) -> None:
    """Keep who signed in at Microsoft (the mailbox's own account, or a shared mailbox's delegate)
    and their tokens, and let the mailbox sync again at once."""
    reconnected = mailbox.pk is not None
    mailbox.ms_oid, mailbox.ms_tid, mailbox.ms_home_account_id = identity.oid, identity.tid, identity.home_account_id
    mailbox.token_cache, mailbox.token_fingerprint = token_cache, fingerprint
    mailbox.signed_in_as, mailbox.connected_by = identity.username, actor
    mailbox.needs_reconnect, mailbox.reconnect_reason, mailbox.sync_enabled = False, "", True
    if mailbox.state in {Mailbox.State.DISABLED, Mailbox.State.ERROR}:
        mailbox.state = Mailbox.State.IDLE if mailbox.last_success_at else Mailbox.State.NEW
        mailbox.last_error = ""
    mailbox.failure_count = 0
    mailbox.next_sync_at = timezone.now()
    mailbox.save()
    if reconnected:
        _record_reconnected(mailbox, identity.username)


def _record_reconnected(mailbox: Mailbox, signed_in_as: str = "") -> None:
    record_event(EventType.MAILBOX_RECONNECTED, mailbox.pk,
                 {"email_address": mailbox.email_address, "signed_in_as": signed_in_as})


@transaction.atomic
def connect_office365_mailbox(
    user: User, identity: SignedInIdentity, token_cache: str, fingerprint: str, *, mailbox_id: int | None = None
) -> Saved:
    """Connect one of the user's own Office 365 mailboxes: Reconnect of `mailbox_id` (the same
    account must sign in), or a new one (signing in again as a connected account reconnects it)."""
    mine = Mailbox.objects.select_for_update().filter(owner=user, active=True,
                                                      account_type=Mailbox.AccountType.OFFICE365)
    current: Mailbox | None
    if mailbox_id is not None:
        current = mine.get(pk=mailbox_id)
        if not _same_account(current, identity):
            raise WrongAccount(f"Microsoft signed in {identity.username or 'an account without a name'}, not "
                               f"{current.email_address}: sign in as {current.email_address} to reconnect it "
                               "(another account is added as a mailbox of its own).")
    else:
        current = next((mailbox for mailbox in mine if _same_account(mailbox, identity)), None)
        if current is None:
            _refuse_duplicate(user, identity.username)
    mailbox = current or Mailbox(owner=user, account_type=Mailbox.AccountType.OFFICE365)
    mailbox.email_address = identity.username
    _store_sign_in(mailbox, user, identity, token_cache, fingerprint)
    record_audit_event(user, "mailbox.connected", mailbox.email_address, reconnect=current is not None)
    return Saved(mailbox)


@transaction.atomic
def connect_shared_mailbox(user: User, shared_address: str, identity: SignedInIdentity, token_cache: str,
                           fingerprint: str, *, mailbox_id: int | None = None) -> Mailbox:
    """Connect (or Reconnect, `mailbox_id`) a shared mailbox among the user's own, opened with the
    sign-in of `identity`, a delegate who holds Full Access on it (checked by the caller)."""
    if mailbox_id is not None:
        mailbox = Mailbox.objects.select_for_update().get(
            pk=mailbox_id, owner=user, active=True, account_type=Mailbox.AccountType.OFFICE365_SHARED)
    else:
        _refuse_duplicate(user, shared_address)
        mailbox = Mailbox(owner=user, account_type=Mailbox.AccountType.OFFICE365_SHARED, email_address=shared_address)
    _store_sign_in(mailbox, user, identity, token_cache, fingerprint)
    record_audit_event(user, "mailbox.connected", mailbox.email_address, delegate=identity.username,
                       reconnect=mailbox_id is not None)
    return mailbox


@transaction.atomic
def save_other_account(user: User, mailbox: Mailbox | None = None, **fields: object) -> Saved:
    """Add an Other account among the user's mailboxes, or change `mailbox`'s settings."""
    if mailbox is not None:
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk, owner=user, active=True,
                                                          account_type=Mailbox.AccountType.OTHER)
    _refuse_duplicate(user, str(fields.get("email_address", "")), exclude_pk=mailbox.pk if mailbox else None)
    mailbox = mailbox or Mailbox(owner=user, account_type=Mailbox.AccountType.OTHER)
    _apply_other_account(mailbox, fields)
    record_audit_event(user, "mailbox.configured", mailbox.email_address, account_type="other")
    return Saved(mailbox)


def _apply_other_account(mailbox: Mailbox, fields: dict[str, object]) -> None:
    """Store an Other account's settings (an empty password keeps the stored one) and let it sync
    now; a mailbox that was waiting for this counts as reconnected."""
    waited = mailbox.needs_reconnect
    for name, value in fields.items():
        if name == "password" and not value:
            continue
        setattr(mailbox, name, value)
    mailbox.needs_reconnect, mailbox.reconnect_reason, mailbox.sync_enabled = False, "", True
    mailbox.next_sync_at = timezone.now()
    mailbox.save()
    if waited:
        _record_reconnected(mailbox)


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
        record_event(EventType.MAILBOX_AUTH_FAILED, mailbox.pk,
                     {"email_address": mailbox.email_address, "reason": reason[:500]})


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
    if created:
        # A shared address's history is not pulled in unless an administrator picks an earlier date.
        mailbox.sync_from = timezone.localdate()
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
    _apply_other_account(locked, fields)
    record_audit_event(actor, "system_mailbox.configured", locked.email_address, account_type="other")
    return locked


@transaction.atomic
def connect_system_office365_mailbox(actor: User, mailbox_id: int, identity: SignedInIdentity, token_cache: str,
                                     fingerprint: str) -> Mailbox:
    """Connect a system mailbox of type Office 365 to its own account; the sign-in must be that
    mailbox (an administrator's own account would otherwise read their mail into it)."""
    mailbox = Mailbox.objects.select_for_update().get(pk=mailbox_id, owner__isnull=True, active=True)
    if identity.username.lower() != mailbox.email_address.lower():
        raise WrongAccount(f"Microsoft signed in {identity.username or 'an account without a name'}, not "
                           f"{mailbox.email_address}: sign in as the mailbox itself.")
    _store_sign_in(mailbox, actor, identity, token_cache, fingerprint)
    record_audit_event(actor, "system_mailbox.connected", mailbox.email_address, label=mailbox.label)
    return mailbox


@transaction.atomic
def connect_system_shared_mailbox(actor: User, mailbox_id: int, shared_address: str, identity: SignedInIdentity,
                                  token_cache: str, fingerprint: str) -> Mailbox:
    """Connect (or Reconnect with another delegate) a system mailbox that is a shared mailbox: it
    then uses the sign-in of `identity`, who holds Full Access on `shared_address` (checked by the
    caller; a mailbox whose address changed meanwhile is not found)."""
    mailbox = Mailbox.objects.select_for_update().get(
        pk=mailbox_id, owner__isnull=True, active=True, account_type=Mailbox.AccountType.OFFICE365_SHARED,
        email_address__iexact=shared_address)
    _store_sign_in(mailbox, actor, identity, token_cache, fingerprint)
    record_audit_event(actor, "system_mailbox.connected", mailbox.email_address, label=mailbox.label,
                       delegate=identity.username)
    return mailbox


@transaction.atomic
def require_reconnect_after_departure(user: User) -> list[Mailbox]:
    """`user` was deactivated or is being deleted: the shared mailboxes opened with the sign-in
    they gave stop and ask for a Reconnect with another delegate (their people are told)."""
    departed = list(Mailbox.objects.select_for_update().filter(
        connected_by=user, active=True, needs_reconnect=False, account_type=Mailbox.AccountType.OFFICE365_SHARED))
    for mailbox in departed:
        require_reconnect(mailbox, messages.delegate_departed(user.get_username(), mailbox.signed_in_as))
    return departed


@transaction.atomic
def delete_system_mailbox(actor: User, mailbox: Mailbox, *, delete_mail: bool) -> Saved:
    """Stop a system mailbox for good. Kept mail stays readable to the same people; deleted mail
    (and the mailbox) goes in the background."""
    locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk, owner__isnull=True)
    retired = _retire(locked, delete_mail=delete_mail)
    record_audit_event(actor, "system_mailbox.deleted", locked.email_address, label=locked.label,
                       delete_mail=delete_mail)
    return Saved(locked, retired)
