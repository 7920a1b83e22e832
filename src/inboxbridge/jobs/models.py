"""What the background machinery records about itself: worker heartbeats, the sync run log, and
periodic jobs. The scheduling state of each mailbox lives on the Mailbox row (next_sync_at, lease)."""

from __future__ import annotations

from django.db import models

from inboxbridge.mailboxes.models import Mailbox


class WorkerHeartbeat(models.Model):
    """One row per running loop (a task worker or a scheduler) in any process on any machine.

    /healthz and the admin page read it; housekeeping deletes rows of loops gone for a day."""

    class Role(models.TextChoices):
        WORKER = "worker", "Task worker"
        SCHEDULER = "scheduler", "Scheduler"

    loop_id = models.CharField(max_length=120, primary_key=True)  # "<host>:<pid>:<role>"
    role = models.CharField(max_length=20, choices=Role.choices)
    hostname = models.CharField(max_length=100)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=20)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    tasks_done = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.loop_id


class SyncRun(models.Model):
    """One attempt to sync a mailbox, written with the lease it ran under: started after the lease
    was taken, finished before it was given back. Runs of one mailbox therefore never overlap
    unless leasing is broken, which the scale tests check. A run without `finished_at` whose
    lease has expired was cut short (worker killed). Kept for SYNC_RUN_RETENTION_HOURS."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.CASCADE, related_name="sync_runs")
    worker_id = models.CharField(max_length=100)
    lease_token = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, blank=True)  # ok | partial | error | lease_lost
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["mailbox", "started_at"]), models.Index(fields=["started_at"])]

    def __str__(self) -> str:
        return f"sync of mailbox {self.mailbox_id} by {self.worker_id}"


class PeriodicJob(models.Model):
    """A job that runs every so often fleet-wide (housekeeping): whichever scheduler moves
    `next_run_at` forward with a conditional UPDATE enqueues it, so it runs once per period."""

    name = models.CharField(max_length=100, primary_key=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
