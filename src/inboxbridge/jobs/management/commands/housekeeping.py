"""`inboxbridge manage housekeeping`: run the hourly housekeeping now, in this process."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from inboxbridge.jobs.housekeeping import run_housekeeping


class Command(BaseCommand):
    help = "Delete orphan attachment blobs, old task results, old sync runs and heartbeats now."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(run_housekeeping()))
