"""The `inboxbridge` command: serve, worker, sync, manage. Thin: each verb calls into the apps."""

from __future__ import annotations

import argparse
import os
import sys


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inboxbridge.settings")
    import django  # here: the settings module is chosen first, and --help needs no Django

    django.setup()


def _start_django() -> None:
    """Set Django up and run its system checks, as Django's own commands do before they work: a
    wrong setting stops serve, worker and sync at once, naming the variable and what it takes."""
    _setup_django()
    from django.core.management.base import BaseCommand, SystemCheckError  # here and below: after django.setup()

    try:
        BaseCommand().check()
    except SystemCheckError as problems:
        sys.exit(str(problems))


def _no_admin_hint() -> None:
    from django.contrib.auth import get_user_model  # after django.setup()

    if not get_user_model().objects.filter(is_staff=True, is_active=True).exists():
        print(
            "inboxbridge: there is no administrator yet. Create one with\n"
            "  inboxbridge manage createsuperuser\n"
            "(or non-interactively: DJANGO_SUPERUSER_PASSWORD=... inboxbridge manage createsuperuser "
            "--noinput --username admin --email admin@example.com)",
            file=sys.stderr,
        )


def serve(args: argparse.Namespace) -> int:
    _start_django()
    from django.conf import settings  # here and below: after django.setup()
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from inboxbridge.wsgi import application  # after collectstatic: WhiteNoise indexes the files at start

    _no_admin_hint()
    embedded = None
    if settings.EMBEDDED_WORKER and not args.no_worker:
        from inboxbridge.jobs.worker import start_embedded_worker  # app code: after django.setup()

        embedded = start_embedded_worker()
    shown_host = "localhost" if args.host in {"0.0.0.0", "127.0.0.1", "::"} else args.host  # noqa: S104
    print(f"inboxbridge: serving on http://{shown_host}:{args.port}/ (data in {settings.DATA_DIR})", file=sys.stderr)
    try:
        waitress_serve(
            application,
            host=args.host,
            port=args.port,
            threads=args.threads,
            ident="inboxbridge",
            # X-Forwarded-* reach Django untouched; INBOXBRIDGE_BEHIND_PROXY decides whether to trust them.
        )
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def worker(args: argparse.Namespace) -> int:
    _start_django()
    from inboxbridge.jobs.worker import run_worker  # app code: after django.setup()

    return run_worker(scheduler=not args.no_scheduler)


def sync(args: argparse.Namespace) -> int:
    _start_django()
    from inboxbridge.jobs.sync_command import run_sync_command  # here: app code needs django.setup() first

    return run_sync_command(mailbox_ids=args.mailbox or [], all_mailboxes=args.all)


def manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line  # after django.setup()

    execute_from_command_line(["inboxbridge manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inboxbridge", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    p = verbs.add_parser("serve", help="apply migrations and serve the back-office (with the embedded worker)")
    p.add_argument("--host", default=os.environ.get("INBOXBRIDGE_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("INBOXBRIDGE_PORT", "8000")))
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--no-worker", action="store_true", help="do not run background work in this process")
    p.set_defaults(func=serve)

    p = verbs.add_parser("worker", help="run background work (sync, housekeeping) for the configured backend")
    p.add_argument("--no-scheduler", action="store_true", help="only run tasks; another process schedules")
    p.set_defaults(func=worker)

    p = verbs.add_parser("sync", help="synchronize mailboxes now")
    p.add_argument("--mailbox", type=int, action="append", help="a mailbox id (repeatable)")
    p.add_argument("--all", action="store_true", help="every mailbox whose sync is enabled")
    p.set_defaults(func=sync)

    p = verbs.add_parser("manage", help="run a Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
