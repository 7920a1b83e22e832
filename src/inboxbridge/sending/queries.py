"""Reads of the sending app. Every lookup for a user starts from mailboxes.queries.visible_mailboxes,
the one place that decides whose mailboxes a user may see."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from inboxbridge.mail.queries import visible_emails
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.queries import AnyUser as User
from inboxbridge.mailboxes.queries import visible_mailboxes
from inboxbridge.sending.models import DraftAttachment, OutgoingMessage, SavedDraft, Signature

SUGGESTIONS = 10


def sendable_mailboxes(user: User) -> QuerySet[Mailbox]:
    """The mailboxes `user` may send from: every connected mailbox they may read (their own ones,
    and the system mailboxes they are authorized for), while it does not need a reconnect (and,
    for "Other" accounts, has an SMTP server). Their own mailboxes come first."""
    if not user.is_authenticated:
        return Mailbox.objects.none()
    return (
        visible_mailboxes(user)
        .filter(active=True, needs_reconnect=False)
        .exclude(account_type=Mailbox.AccountType.OTHER, smtp_host="")
        .order_by(F("owner_id").asc(nulls_last=True), "label", "email_address")
    )


def visible_outgoing(user: User) -> QuerySet[OutgoingMessage]:
    """The outbox of `user`: what they wrote, from mailboxes they can still see."""
    if not user.is_authenticated:
        return OutgoingMessage.objects.none()
    return OutgoingMessage.objects.filter(author_id=user.pk, mailbox__in=visible_mailboxes(user))


def unusable_mailbox(user: User) -> Mailbox | None:
    """The user's connected mailbox when it cannot send (to say why on the Compose page)."""
    if not user.is_authenticated:
        return None
    return visible_mailboxes(user).filter(owner_id=user.pk, active=True).first()


def visible_drafts(user: User) -> QuerySet[SavedDraft]:
    """A user's drafts: only their author ever sees one."""
    if not user.is_authenticated:
        return SavedDraft.objects.none()
    return SavedDraft.objects.filter(author_id=user.pk)


def draft_image(user: User, draft_id: int, upload_id: int) -> DraftAttachment | None:
    """An image inserted into one of the user's drafts (what the editor shows while it is written)."""
    return (DraftAttachment.objects.filter(draft__in=visible_drafts(user), draft_id=draft_id, pk=upload_id)
            .exclude(content_id="").select_related("blob").first())


def signatures(user: User, mailboxes: list[Mailbox]) -> dict[int, str]:
    """The signature Compose inserts for each From choice: a system mailbox's own, else the user's."""
    if not user.is_authenticated:
        return {}
    own = Signature.objects.filter(user_id=user.pk).values_list("text", flat=True).first() or ""
    system = dict(Signature.objects.filter(mailbox__in=[m for m in mailboxes if m.owner_id is None])
                  .values_list("mailbox_id", "text"))
    return {mailbox.pk: system.get(mailbox.pk) or own for mailbox in mailboxes}


def address_suggestions(user: User, typed: str) -> list[tuple[str, str]]:
    """Senders of the user's visible mail whose address or name starts with what was typed (then
    the people the user wrote to), each address once, most recent first."""
    typed = typed.strip()
    if not typed or not user.is_authenticated:
        return []
    found: dict[str, tuple[str, str]] = {}
    senders = (visible_emails(user).filter(Q(from_address__istartswith=typed) | Q(from_name__istartswith=typed))
               .order_by("-received_at").values_list("from_name", "from_address")[:SUGGESTIONS * 5])
    written = visible_outgoing(user).order_by("-created_at").values_list("to", "cc")[:200]
    recipients = [(name, address) for to, cc in written for name, address in [*to, *cc]
                  if address.lower().startswith(typed.lower()) or name.lower().startswith(typed.lower())]
    for name, address in [*senders, *recipients]:
        if address and len(found) < SUGGESTIONS:
            found.setdefault(address.lower(), (name, address))
    return list(found.values())
