"""Background work of the sending app (Django's Tasks API, see inboxbridge.jobs.tasks), and the
enqueuing of it: entry points (the outbox's views, the scheduler) call these after the action that
changed the outbox row, never the actions themselves.

The outbox row is the source of truth, the task queue only a wake-up call: a task that is lost
(worker killed, queue flushed, enqueue failed after the commit) costs a delay, never the message,
because `enqueue_due_outgoing_messages` hands such rows out again. Safe to run any number of times:
only the run that claims the row (queued -> sending) sends.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from inboxbridge.sending import actions, delivery
from inboxbridge.sending.models import OutgoingMessage

logger = logging.getLogger(__name__)


@task()
def send_outgoing_message(message_id: int) -> str:
    """Send one outbox message if it is due; returns sent / retry / failed / rate-limited / skipped."""
    attempt = delivery.send_message(message_id)
    if attempt.again_at is not None:
        dispatch(message_id, at=attempt.again_at)
    return attempt.outcome


@task()
def save_sent_copy(message_id: int) -> str:
    """Save the copy in Sent of a sent message if it is still pending; returns saved / skipped."""
    return delivery.save_pending_sent_copy(message_id)


def dispatch_on_commit(message_id: int) -> None:
    """Hand a message that was queued (or queued again) to a worker once the write has committed.
    robust: a queue outage must not turn the saved message into an error page; the row is committed
    and the scheduler hands it out (enqueue_due_outgoing_messages)."""
    transaction.on_commit(partial(dispatch, message_id), robust=True)


def save_copy_on_commit(message_id: int) -> None:
    """Hand the copy in Sent the user asked for again to a worker once that has committed."""
    transaction.on_commit(partial(save_sent_copy.enqueue, message_id), robust=True)


def dispatch(message_id: int, *, at: datetime | None = None) -> bool:
    """Enqueue the send task for a queued message, to run at `at` (default: now). Backends that
    cannot defer get nothing for a later time: the scheduler hands the message out when due.
    Call outside transactions (or on commit): the immediate backend sends right here."""
    now = timezone.now()
    send = send_outgoing_message
    backend = send.get_backend()
    waiting = OutgoingMessage.objects.filter(pk=message_id, state=OutgoingMessage.State.QUEUED)
    if at is not None and at > now:
        if not backend.supports_defer:
            waiting.update(task_due_at=None)
            return False
        send = send.using(run_after=at)
    if backend.supports_priority:
        send = send.using(priority=actions.SEND_PRIORITY)
    # Noted before enqueueing: the immediate backend has already claimed the row when enqueue returns.
    waiting.update(task_due_at=at if at is not None and at > now else now)
    try:
        send.enqueue(message_id)
    except Exception:
        logger.exception("Could not enqueue outgoing message %s; the scheduler will hand it out", message_id)
        waiting.update(task_due_at=None)
        return False
    return True


def enqueue_due_outgoing_messages(*, limit: int = 100) -> int:
    """The scheduler's one call: hand out what `actions.due_outgoing_messages` finds, and the copies
    in Sent that `actions.due_sent_copies` finds; returns how many messages were handed out."""
    for message_id in actions.due_sent_copies(limit=limit):
        try:
            save_sent_copy.enqueue(message_id)
        except Exception:
            logger.exception("Could not enqueue the Sent copy of message %s; it is handed out again later",
                             message_id)

    send = send_outgoing_message
    if send.get_backend().supports_priority:
        send = send.using(priority=actions.SEND_PRIORITY)
    ids = actions.due_outgoing_messages(limit=limit)
    for message_id in ids:
        try:
            send.enqueue(message_id)
        except Exception:
            logger.exception("Could not enqueue outgoing message %s; next tick tries again", message_id)
            OutgoingMessage.objects.filter(pk=message_id, state=OutgoingMessage.State.QUEUED).update(task_due_at=None)
    return len(ids)
