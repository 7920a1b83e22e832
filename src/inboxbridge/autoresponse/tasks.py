"""Background work of the autoresponse app, and its enqueuing: the sync's runner (an entry point)
calls `answer_on_commit` after a sync slice; the task hands the answers it queued to the outbox."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django_tasks import task

from inboxbridge.autoresponse import responder
from inboxbridge.sending.tasks import dispatch_on_commit

logger = logging.getLogger(__name__)


@task()
def answer_new_mail(mailbox_id: int) -> int:
    """Answer a mailbox's new mail with its enabled rules; returns how many answers were queued."""
    queued = responder.answer_new_mail(mailbox_id)
    for message_id in queued:
        dispatch_on_commit(message_id)
    return len(queued)


def _enqueue(mailbox_id: int) -> None:
    try:
        answer_new_mail.enqueue(mailbox_id)
    except Exception:
        # The rule's high-water mark stays where it is: the next sync of the mailbox enqueues again.
        logger.exception("Could not enqueue the autoresponse of mailbox %s; the next sync tries again", mailbox_id)


def answer_on_commit(mailbox_id: int) -> None:
    """Answer the mailbox's new mail in a worker once the caller's writes have committed."""
    transaction.on_commit(partial(_enqueue, mailbox_id), robust=True)
