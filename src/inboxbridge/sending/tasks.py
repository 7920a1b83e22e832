"""Background work of the sending app (Django's Tasks API, see inboxbridge.jobs.tasks).

Enqueued on commit of the outbox row, again with `run_after` for a retry, and by the scheduler
for anything due whose task never came (actions.enqueue_due_outgoing_messages). Safe to run any
number of times: only the run that claims the row (queued -> sending) sends.
"""

from __future__ import annotations

from django_tasks import task


@task()
def send_outgoing_message(message_id: int) -> str:
    """Send one outbox message if it is due; returns sent / retry / failed / rate-limited / skipped."""
    from inboxbridge.sending.delivery import send_message

    return send_message(message_id)


@task()
def save_sent_copy(message_id: int) -> str:
    """Save the copy in Sent of a sent message if it is still pending; returns saved / skipped."""
    from inboxbridge.sending.delivery import save_pending_sent_copy

    return save_pending_sent_copy(message_id)
