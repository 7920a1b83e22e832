"""Mailboxes and their folders: those the token's user may read (mailboxes.queries.visible_mailboxes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from inboxbridge.api import auth
from inboxbridge.api.endpoints import convert
from inboxbridge.api.problems import ApiProblem, invalid, one_or_404
from inboxbridge.api.schemas import Accepted, FolderChoiceIn, FolderOut, MailboxOut, ObjectId, answers
from inboxbridge.jobs.scheduler import request_sync
from inboxbridge.jobs.status import sync_status
from inboxbridge.mail.queries import visible_folders
from inboxbridge.mailboxes.actions import select_folders
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import visible_mailboxes
from inboxbridge.microsoft.config import office365_enabled
from inboxbridge.sending.queries import sendable_mailboxes

router = Router(tags=["mailboxes"])


def visible_mailbox(request: HttpRequest, mailbox_id: ObjectId) -> Mailbox:
    return one_or_404(visible_mailboxes(request.user), mailbox_id, "mailbox")


def managed_mailbox(request: HttpRequest, mailbox_id: ObjectId, doing: str) -> Mailbox:
    """A mailbox the token's user may also change: their own, or any for an administrator. Users
    authorized for a system mailbox read it but are refused (403) what only administrators do."""
    row = visible_mailbox(request, mailbox_id)
    if row.owner_id != request.user.pk and not getattr(request.user, "is_staff", False):
        raise ApiProblem(403, f"Only an administrator can {doing} a system mailbox.")
    return row


def _sendable(request: HttpRequest) -> set[int]:
    return set(sendable_mailboxes(request.user).values_list("pk", flat=True))


@router.get("/mailboxes", response=answers(ok_200=list[MailboxOut]), auth=auth.READ, summary="List mailboxes")
def list_mailboxes(request: HttpRequest) -> list[dict[str, Any]]:
    """Every mailbox the token's user may read: their own, then the system mailboxes they are
    authorized for (an administrator: every system mailbox), with their sync state."""
    enabled, sendable = office365_enabled(), _sendable(request)
    rows = visible_mailboxes(request.user).order_by("owner_id", "label", "email_address", "pk")
    return [convert.mailbox(row, office365_enabled=enabled, sendable=sendable) for row in rows]


@router.get("/mailboxes/{id}", response=answers(ok_200=MailboxOut), auth=auth.READ, summary="One mailbox")
def get_mailbox(request: HttpRequest, id: ObjectId) -> dict[str, Any]:
    row = visible_mailbox(request, id)
    return convert.mailbox(row, office365_enabled=office365_enabled(), sendable=_sendable(request))


@router.post("/mailboxes/{id}/sync", response=answers(409, ok_202=Accepted), auth=auth.MANAGE,
             summary="Sync now")
def sync_mailbox(request: HttpRequest, id: ObjectId) -> Status[dict[str, str]]:
    """Ask for a sync at once, as the Sync now button does: the owner for their own mailbox, an
    administrator for a system mailbox. 409 when the mailbox cannot sync (the reason is given)."""
    row = managed_mailbox(request, id, "ask for a sync of")
    status = sync_status(row, office365_enabled=office365_enabled())
    if not status.can_sync_now:
        raise ApiProblem(409, f"This mailbox cannot be synchronised now: {status.reason}")
    request_sync(row)
    return Status(202, {"detail": "A sync was requested; GET the mailbox for its progress."})


@router.get("/mailboxes/{id}/folders", response=answers(ok_200=list[FolderOut]), auth=auth.READ,
            summary="Folders of a mailbox")
def list_folders(request: HttpRequest, id: ObjectId) -> list[dict[str, Any]]:
    row = visible_mailbox(request, id)
    return [convert.folder(f) for f in visible_folders(request.user).filter(mailbox=row).order_by("name", "pk")]


@router.put("/mailboxes/{id}/folders", response=answers(409, ok_200=list[FolderOut]), auth=auth.MANAGE,
            summary="Choose the folders to synchronise")
def choose_folders(request: HttpRequest, id: ObjectId, payload: FolderChoiceIn) -> list[dict[str, Any]]:
    """As the folder checkboxes of the mailbox's page: the folders listed in `sync` synchronise, the
    others stop (their mail stays), and a sync follows shortly. 409 while the mailbox's folders are
    not known yet: its first sync lists them (a mailbox just connected through a connect link)."""
    row = managed_mailbox(request, id, "choose the folders of")
    known = set(row.folders.filter(exists_on_server=True).values_list("pk", flat=True))
    if not known:
        raise ApiProblem(409, "The folders of this mailbox are not known yet: its first sync lists them. GET the "
                              "mailbox for its progress, then GET its folders.")
    for n, folder_id in enumerate(payload.sync):
        if folder_id not in known:
            raise invalid(f"sync.{n}", f"No folder of this mailbox has the id {folder_id}: GET "
                                       f"/mailboxes/{row.pk}/folders lists them.")
    if payload.sync_from is not None and payload.sync_from > timezone.localdate():
        raise invalid("sync_from", "The day is in the future: no mail would be synchronised until then.")
    select_folders(request.user, row, payload.sync, sync_from=payload.sync_from)  # type: ignore[arg-type]
    return list_folders(request, id)
