"""Rows to the API's JSON (schemas.py)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from inboxbridge.jobs.status import sync_status
from inboxbridge.lib.html import sanitize_email_html
from inboxbridge.mail.models import Email, Thread
from inboxbridge.mail.queries import inline_parts, thread_messages
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.sending.models import OutgoingMessage


def addresses(pairs: list[Any]) -> list[dict[str, str]]:
    return [{"name": str(pair[0] or ""), "address": str(pair[1] or "")} for pair in pairs if len(pair) >= 2]


def mailbox(row: Mailbox, *, office365_enabled: bool, sendable: set[int]) -> dict[str, Any]:
    status = sync_status(row, office365_enabled=office365_enabled)
    return {
        "id": row.pk, "email_address": row.email_address, "label": row.label, "account_type": row.account_type,
        "system": row.is_system, "active": row.active, "can_send": row.pk in sendable,
        "sync": {"state": status.key, "label": status.label, "reason": status.reason, "last_sync_at": row.last_sync_at,
                 "last_success_at": row.last_success_at, "message_count": row.message_count, "backlog": row.backlog},
    }


def folder(row: Folder) -> dict[str, Any]:
    return {"id": row.pk, "mailbox_id": row.mailbox_id, "name": row.name, "display_name": row.display_name,
            "special_use": row.special_use, "selected": row.selected, "unread_count": row.unread_count,
            "last_synced_at": row.last_synced_at}


def summary(row: Email) -> dict[str, Any]:
    preview = getattr(row, "preview", None)
    return {
        "id": row.pk, "mailbox_id": row.mailbox_id, "thread_id": row.thread_id, "subject": row.subject,
        "sender": {"name": row.from_name, "address": row.from_address}, "received_at": row.received_at,
        "is_seen": row.is_seen, "is_flagged": row.is_flagged, "has_attachments": row.has_attachments,
        "preview": " ".join((preview if preview is not None else row.body_text[:140]).split()),
    }


def message(row: Email) -> dict[str, Any]:
    parts = inline_parts(row)

    def cid_url(content_id: str) -> str | None:
        part_id = parts.find(content_id)
        return reverse("api:attachment", args=[part_id]) if part_id is not None else None

    html = sanitize_email_html(row.body_html, cid_url=cid_url) if row.body_html else None
    return {
        **summary(row),
        "internet_message_id": row.message_id, "in_reply_to": row.in_reply_to, "references": row.references,
        "to": addresses(row.to), "cc": addresses(row.cc), "bcc": addresses(row.bcc),
        "reply_to": addresses(row.reply_to),
        "sent_at": row.sent_at, "text": row.body_text, "html": html.html if html else "",
        "html_cut": bool(html and html.cut), "truncated": row.truncated,
        "headers": [{"name": str(name), "value": str(value)} for name, value in row.headers],
        "attachments": [
            {"id": part.pk, "filename": part.filename, "content_type": part.content_type, "size": part.size,
             "inline": part.inline, "content_id": part.content_id, "available": part.blob_id is not None}
            for part in row.attachments.all()
        ],
        "folder_ids": sorted(row.placements.values_list("folder_id", flat=True)),
    }


def thread(row: Thread) -> dict[str, Any]:
    return {"id": row.pk, "mailbox_id": row.mailbox_id, "subject": row.subject,
            "last_message_at": row.last_message_at, "messages": [summary(e) for e in thread_messages(row)]}


def outgoing(row: OutgoingMessage) -> dict[str, Any]:
    return {
        "id": row.pk, "mailbox_id": row.mailbox_id, "state": row.state, "subject": row.subject,
        "to": addresses(row.to), "cc": addresses(row.cc), "bcc": addresses(row.bcc),
        "internet_message_id": row.message_id,
        "attempts": row.attempts, "last_error": row.last_error, "created_at": row.created_at,
        "next_attempt_at": row.next_attempt_at if row.state == OutgoingMessage.State.QUEUED else None,
        "sent_at": row.sent_at, "can_cancel": row.can_cancel,
    }
