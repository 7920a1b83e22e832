"""Move attachment contents between the database and the attachment files."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from inboxbridge.mail.blobs import move_contents


class Command(BaseCommand):
    help = ("Move every attachment content to where INBOXBRIDGE_ATTACHMENT_STORE now puts new ones (or to --to): "
            "run after changing that setting. Safe to run again, and while the service runs.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", choices=["files", "database"], default=None,
                            help="where to move them (default: INBOXBRIDGE_ATTACHMENT_STORE)")

    def handle(self, *args: Any, **options: Any) -> None:
        to = options["to"] or settings.ATTACHMENT_STORE
        where = f"the attachment files ({settings.ATTACHMENTS_DIR})" if to == "files" else "the database"
        verbosity = int(options["verbosity"])

        def progress(done: int, total: int) -> None:
            if verbosity >= 1 and (done % 500 == 0 or done == total):
                self.stdout.write(f"  {done:,} / {total:,}")

        report = move_contents(to, progress=progress)
        self.stdout.write(f"Moved {report.moved:,} attachment content(s) ({filesizeformat(report.moved_bytes)}) "
                          f"into {where}.")
        if to == "database" and report.moved:
            self.stdout.write("Their files are deleted by housekeeping after a day (a backup may still read them).")
        if report.missing:
            shown = ", ".join(report.missing[:5]) + (" ..." if len(report.missing) > 5 else "")
            source = "the database" if to == "files" else "the attachment files"
            raise CommandError(
                f"{len(report.missing)} content(s) were missing or damaged in {source} and stayed where they were: "
                f"{shown}. Restore them from the backup taken with the database, then run this again."
            )
