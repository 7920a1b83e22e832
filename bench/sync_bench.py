"""Sync benchmark: inboxbridge side by side with the yardstick (raw fetch, mbsync), in one run, over
IMAPS against a standalone Dovecot on loopback.

    python bench/sync_bench.py --yardstick DIR [--sizes 5000,20000] [--runs 3] [--workdir DIR] [--json FILE]

DIR holds the yardstick's gen_corpus.py, raw_fetch.py and add_new.py. Needs root (Dovecot switches
to the mail user), dovecot and mbsync (Debian's isync). Per corpus size (INBOX n*3/4 + Archive n/4):
(a) raw imaplib fetch, (b) mbsync to a fresh Maildir, (c) an inboxbridge first sync into a fresh
SQLite database, interleaved `--runs` times; then on the last size (d) a re-sync with nothing new
and (e) 100 new messages (add_new.py), each `--runs` times for every client. Every client runs in
a fresh process under /usr/bin/time -v. Prints a Markdown table; --json keeps every figure.
Outputs of earlier runs are kept until the end (see retire()): the work directory needs about
25 GB free for the default sizes with --diagnose.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trustme

USER, PASSWORD = "perf@example.com", "perfpw"
FOLDERS = ("INBOX", "Archive")
ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "cJzPRT3mYl0Ek0oD3K0tZ7JkEJgm4lQ0YbbcVPq0o3I="  # a throw-away key for the bench's own database


def free_ports(count: int) -> list[int]:
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class BenchDovecot:
    """Dovecot 2.3 with one password user whose Maildir++ holds the corpus (INBOX + .Archive)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.home = workdir / "home" / "perf"
        self.maildir = self.home / "Maildir"
        self.imap_port, self.imaps_port = free_ports(2)
        self.cafile = workdir / "ca.pem"
        self.leaf_cert = workdir / "server-cert.pem"
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        w = self.workdir
        mail = pwd.getpwnam("mail")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(self.cafile))
        cert.private_key_and_cert_chain_pem.write_to_path(str(w / "server.pem"))
        # mbsync 1.4 wants the server certificate itself (trustme's has no CN to match a name against).
        cert.cert_chain_pems[0].write_to_path(str(self.leaf_cert))
        (w / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{mail.pw_uid}:{mail.pw_gid}::{self.home}::\n")
        conf = f"""base_dir = {w}/run
state_dir = {w}/state
log_path = {w}/dovecot.log
instance_name = inboxbridge-bench-{self.imap_port}
protocols = imap
listen = 127.0.0.1
shutdown_clients = yes
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = {mail.pw_uid}
ssl = yes
ssl_cert = <{w}/server.pem
ssl_key = <{w}/server.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_max_userip_connections = 100
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Archive {{
    special_use = \\Archive
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {w}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {w}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
        (w / "dovecot.conf").write_text(conf)

    def start(self) -> None:
        shutil.rmtree(self.workdir / "run", ignore_errors=True)
        self.write_config()
        self.process = subprocess.Popen(
            ["/usr/sbin/dovecot", "-F", "-c", str(self.workdir / "dovecot.conf")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.imaps_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start: " + (self.workdir / "dovecot.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def counts(self) -> dict[str, int]:
        """Messages per folder, read from the Maildir (cur/ and new/)."""
        found = {}
        for folder, path in (("INBOX", self.maildir), ("Archive", self.maildir / ".Archive")):
            found[folder] = sum(len(os.listdir(path / sub)) for sub in ("cur", "new") if (path / sub).exists())
        return found

    def remove_added(self) -> None:
        """Expunge what add_new.py appended (UIDs above the generated ones)."""
        import imaplib

        wanted = json.loads((self.workdir / "corpus.json").read_text())
        sizes = {"INBOX": wanted["n"] - wanted["archive"], "Archive": wanted["archive"]}
        client = imaplib.IMAP4("127.0.0.1", self.imap_port)
        client.login(USER, PASSWORD)
        for folder, size in sizes.items():
            client.select(folder)
            _typ, data = client.uid("SEARCH", f"UID {size + 1}:*")
            extra = [uid for uid in data[0].split() if int(uid) > size]
            if extra:
                client.uid("STORE", b",".join(extra).decode(), "+FLAGS.SILENT", "(\\Deleted)")
                client.expunge()
            client.close()
        client.logout()

    def generate(self, yardstick: Path, n: int, archive: int) -> None:
        """Write the corpus once per size; the Maildir is kept between bench runs."""
        stamp = self.workdir / "corpus.json"
        wanted = {"n": n, "archive": archive}
        if (stamp.exists() and json.loads(stamp.read_text()) == wanted
                and self.counts() == {"INBOX": n - archive, "Archive": archive}):
            return
        shutil.rmtree(self.home, ignore_errors=True)
        self.maildir.mkdir(parents=True)
        subprocess.run([sys.executable, str(yardstick / "gen_corpus.py"), "--maildir", str(self.maildir),
                        "--n", str(n), "--archive", str(archive)], check=True)
        mail = pwd.getpwnam("mail")
        for path in [self.home, *self.home.rglob("*")]:
            os.chown(path, mail.pw_uid, mail.pw_gid)
        stamp.write_text(json.dumps(wanted))


# -- measuring ----------------------------------------------------------------------------------

TIME_FIELDS = {
    "wall": re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)"),
    "user": re.compile(r"User time \(seconds\): ([\d.]+)"),
    "sys": re.compile(r"System time \(seconds\): ([\d.]+)"),
    "rss_kb": re.compile(r"Maximum resident set size \(kbytes\): (\d+)"),
}


RETIRED: list[Path] = []


def retire(path: Path) -> None:
    """Move a previous run's output aside; everything retired is deleted after the last run.
    Deleting thousands of files just before a run would bill the run for it: ext4 (on these
    machines) scans past recently deleted inodes on every file it creates next, which costs the
    file-per-message client (mbsync, or attachment files) up to 0.5 ms of CPU per file."""
    if path.exists():
        aside = path.with_name(f"{path.name}.retired-{len(RETIRED)}-{os.getpid()}")
        path.rename(aside)
        RETIRED.append(aside)


def timed(argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command under /usr/bin/time -v; its figures plus the command's last stdout line."""
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    figures: dict[str, Any] = {}
    for key, pattern in TIME_FIELDS.items():
        match = pattern.search(proc.stderr)
        assert match, proc.stderr[-2000:]
        value = match.group(1)
        if key == "wall":
            seconds = 0.0
            for part in value.split(":"):
                seconds = seconds * 60 + float(part)
            figures[key] = seconds
        else:
            figures[key] = float(value)
    figures["cpu"] = figures["user"] + figures["sys"]
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    figures["output"] = lines[-1] if lines else ""
    return figures


class Clients:
    """The three contenders against one Dovecot."""

    def __init__(self, server: BenchDovecot, yardstick: Path, workdir: Path) -> None:
        self.server, self.yardstick, self.workdir = server, yardstick, workdir

    # (a) raw fetch
    def raw(self, *, state: Path | None = None, incremental: bool = False) -> dict[str, Any]:
        argv = [sys.executable, str(self.yardstick / "raw_fetch.py"), "--ssl", "--port", str(self.server.imaps_port),
                "--cafile", str(self.server.cafile), "--user", USER, "--password", PASSWORD]
        if state is not None:
            argv += ["--state", str(state)]
        if incremental:
            argv += ["--incremental", "--condstore"]
        result = timed(argv)
        result["messages"] = json.loads(result["output"]).get("new" if incremental else "msgs", 0)
        return result

    # (b) mbsync
    def mbsync_config(self, store: Path) -> Path:
        config = store.parent / (store.name + ".mbsyncrc")
        channels = "".join(
            f"\nChannel ch-{folder.lower()}\nFar :remote:{folder}\nNear :local:{folder}\nCreate Near\n"
            "Sync Pull\nSyncState *\n" for folder in FOLDERS
        )
        config.write_text(
            f"IMAPAccount bench\nHost 127.0.0.1\nPort {self.server.imaps_port}\nUser {USER}\nPass {PASSWORD}\n"
            f"SSLType IMAPS\nCertificateFile {self.server.leaf_cert}\n\nIMAPStore remote\nAccount bench\n\n"
            f"MaildirStore local\nPath {store}/\nInbox {store}/INBOX\nSubFolders Verbatim\n{channels}"
        )
        return config

    def mbsync(self, store: Path, *, fresh: bool) -> dict[str, Any]:
        if fresh:
            retire(store)
            store.mkdir(parents=True)
        result = timed(["mbsync", "-q", "-c", str(self.mbsync_config(store)), "-a"])
        result["messages"] = sum(1 for _ in store.rglob("*") if _.is_file() and _.parent.name in ("cur", "new"))
        return result

    # (c)-(e) inboxbridge
    def engine_env(self, data_dir: Path, variant: str = "") -> dict[str, str]:
        env = dict(os.environ)
        if variant == "indb":
            env["INBOXBRIDGE_ATTACHMENT_STORE"] = "database"
        env.update({
            "INBOXBRIDGE_DATA_DIR": str(data_dir), "INBOXBRIDGE_ENCRYPTION_KEYS": TEST_KEY,
            "INBOXBRIDGE_SECRET_KEY": "bench-only", "INBOXBRIDGE_CA_BUNDLE": str(self.server.cafile),
            "INBOXBRIDGE_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "inboxbridge.settings",
            "INBOXBRIDGE_LOG_LEVEL": "WARNING",
            "INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS": "true",  # Dovecot on loopback
        })
        return env

    def inboxbridge(self, data_dir: Path, *, fresh: bool, variant: str = "") -> dict[str, Any]:
        env = self.engine_env(data_dir, variant)
        if fresh:
            retire(data_dir)
            data_dir.mkdir(parents=True)
            subprocess.run([sys.executable, __file__, "_engine", "setup", str(self.server.imaps_port), variant],
                           env=env, check=True)
        result = timed([sys.executable, __file__, "_engine", "run", str(self.server.imaps_port)], env=env)
        detail = json.loads(result["output"])
        if detail["error"]:
            raise RuntimeError(f"inboxbridge sync failed: {detail['error']}")
        result.update(detail)
        result["messages"] = detail["fetched"]
        database = data_dir / "inboxbridge.sqlite3"
        result["db_mb"] = database.stat().st_size / 1e6 if database.exists() else 0
        files = data_dir / "attachments"
        result["files_mb"] = sum(p.stat().st_size for p in files.glob("??/*")) / 1e6 if files.is_dir() else 0
        return result


class HelperPeaks:
    """Peak RSS of each helper process, read from /proc while the sync runs. The children's
    ru_maxrss is no use here: a child started by vfork is charged the parent's size before its
    exec, and it gives the largest child, not their sum. VmHWM is the process's own peak since
    its exec, so the last reading before it ends is its peak (up to the last 50 ms)."""

    def __init__(self) -> None:
        import threading

        self.peaks: dict[int, int] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        me = Path(f"/proc/{os.getpid()}/task")
        while not self._done.wait(0.05):
            for children in me.glob("*/children"):
                for pid in children.read_text().split():
                    try:
                        # Until its exec, a child started by vfork shows the parent's memory.
                        if b"inboxbridge.sync" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                            continue
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    match = re.search(r"VmHWM:\s+(\d+) kB", status)
                    if match:
                        self.peaks[int(pid)] = max(self.peaks.get(int(pid), 0), int(match.group(1)))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


def create_mailbox(port: int) -> Any:
    """The bench's system mailbox (type Other, a password) on the Dovecot of `port`, its folders
    listed from the server and both corpus folders selected. Call after django.setup()."""
    # Here: app code only once django.setup() has run.
    from inboxbridge.mailboxes.actions import update_folders
    from inboxbridge.mailboxes.credentials import imap_login
    from inboxbridge.mailboxes.models import Folder, Mailbox
    from inboxbridge.mailserver.imap import list_folders

    mailbox = Mailbox.objects.create(label="Bench", email_address=USER, account_type=Mailbox.AccountType.OTHER,
                                     imap_host="127.0.0.1", imap_port=port, imap_ssl=True, username=USER,
                                     password=PASSWORD)
    remote = list_folders(imap_login(mailbox))
    update_folders(mailbox, [(f.name, f.display_name, f.delimiter, f.special_use) for f in remote])
    Folder.objects.filter(mailbox=mailbox, name__in=FOLDERS).update(selected=True)
    return mailbox


def engine_role(action: str, port: int, variant: str = "") -> None:
    """Runs inside the measured process: the engine, as the worker would call it. Diagnostic
    variants: "indb" keeps attachment contents in the database (the PostgreSQL default) instead
    of files (see engine_env), "nofts" drops the full-text index's insert trigger (to show what
    indexing costs)."""
    import django

    django.setup()
    from django.core.management import call_command

    from inboxbridge.mailboxes.models import Mailbox

    if action == "setup":
        call_command("migrate", verbosity=0)
        create_mailbox(port)
        if variant == "nofts":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER IF EXISTS mail_email_fts_insert")
        return
    from inboxbridge.sync.engine import sync_mailbox

    mailbox = Mailbox.objects.get()
    helper_peaks = HelperPeaks()
    started = time.perf_counter()
    result = sync_mailbox(mailbox.pk)
    seconds = time.perf_counter() - started
    helper_peaks.stop()
    own, helper = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "fetched": result.fetched, "skipped": result.folders_skipped, "error": result.error,
        "engine_s": round(seconds, 3), "main_rss_mb": own.ru_maxrss / 1024,
        "helper_rss_mb": sum(helper_peaks.peaks.values()) / 1024, "helpers": len(helper_peaks.peaks),
        "main_cpu": own.ru_utime + own.ru_stime, "helper_cpu": helper.ru_utime + helper.ru_stime,
    }))


# -- the run ------------------------------------------------------------------------------------


def median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def summarize(label: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"what": label, "runs": len(rows), "wall": median(rows, "wall"), "cpu": median(rows, "cpu"),
           "rss_mb": median(rows, "rss_kb") / 1024, "messages": int(median(rows, "messages")),
           "walls": [round(r["wall"], 2) for r in rows]}
    out["msgs_per_s"] = out["messages"] / out["wall"] if out["wall"] else 0.0
    for extra in ("engine_s", "main_rss_mb", "helper_rss_mb", "helpers", "main_cpu", "helper_cpu", "db_mb", "files_mb"):
        if rows and extra in rows[0]:
            out[extra] = median(rows, extra)
    return out


def run_size(args: argparse.Namespace, n: int, last: bool) -> list[dict[str, Any]]:
    workdir = args.workdir / f"c{n}"
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    server = BenchDovecot(workdir)
    server.generate(args.yardstick, n, n // 4)
    server.start()
    results: list[dict[str, Any]] = []
    try:
        clients = Clients(server, args.yardstick, workdir)
        clients.raw()  # warm-up: Dovecot's indexes and the page cache, untimed
        raw_rows, mb_rows, ib_rows = [], [], []
        for _ in range(args.runs):
            raw_rows.append(clients.raw(state=workdir / "raw-state.json"))
            mb_rows.append(clients.mbsync(workdir / "mbsync", fresh=True))
            ib_rows.append(clients.inboxbridge(workdir / "ib", fresh=True))
            print(f"  n={n}: raw {raw_rows[-1]['wall']:.1f} s, mbsync {mb_rows[-1]['wall']:.1f} s, "
                  f"inboxbridge {ib_rows[-1]['wall']:.1f} s", file=sys.stderr)
        results += [summarize(f"(a) raw fetch, {n}", raw_rows), summarize(f"(b) mbsync, {n}", mb_rows),
                    summarize(f"(c) inboxbridge first sync, {n}", ib_rows)]
        if args.diagnose and last:
            labels = {"nofts": "(c') diagnostic: first sync without the FTS5 insert trigger",
                      "indb": "(c'') diagnostic: first sync, attachment contents in the database"}
            for variant, label in labels.items():
                rows = []
                for _ in range(args.runs):
                    rows.append(clients.inboxbridge(workdir / f"ib-{variant}", fresh=True, variant=variant))
                    rows.append(clients.mbsync(workdir / "mbsync", fresh=True) | {"pair": True})
                results.append(summarize(f"{label}, {n}", [r for r in rows if "pair" not in r]))
                results.append(summarize(f"(b) mbsync, run between those, {n}", [r for r in rows if "pair" in r]))
        if last:
            results += incremental(args, clients, workdir)
    finally:
        server.stop()
    return results


def incremental(args: argparse.Namespace, clients: Clients, workdir: Path) -> list[dict[str, Any]]:
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("raw-d", "mb-d", "ib-d", "raw-e", "mb-e", "ib-e")}
    stored = clients.mbsync(workdir / "mbsync", fresh=False)["messages"]  # untimed: mbsync's state is current
    for _ in range(args.runs):
        rows["raw-d"].append(clients.raw(state=workdir / "raw-state.json", incremental=True))
        mb = clients.mbsync(workdir / "mbsync", fresh=False)
        mb["messages"] -= stored
        rows["mb-d"].append(mb)
        rows["ib-d"].append(clients.inboxbridge(workdir / "ib", fresh=False))
    for round_ in range(args.runs):
        subprocess.run([sys.executable, str(args.yardstick / "add_new.py"), "--n", "100", "--round",
                        str(round_ + 1), "--port", str(clients.server.imap_port), "--user", USER,
                        "--password", PASSWORD], check=True, capture_output=True)
        rows["raw-e"].append(clients.raw(state=workdir / "raw-state.json", incremental=True))
        before = stored + 100 * round_
        mb = clients.mbsync(workdir / "mbsync", fresh=False)
        mb["messages"] -= before
        rows["mb-e"].append(mb)
        rows["ib-e"].append(clients.inboxbridge(workdir / "ib", fresh=False))
    clients.server.remove_added()  # the corpus stays as generated for the next bench run
    labels = {"raw-d": "(d) raw CONDSTORE check, no change", "mb-d": "(d) mbsync, no change",
              "ib-d": "(d) inboxbridge re-sync, no change", "raw-e": "(e) raw fetch of 100 new",
              "mb-e": "(e) mbsync, 100 new", "ib-e": "(e) inboxbridge, 100 new"}
    return [summarize(labels[key], value) for key, value in rows.items()]


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| what | runs | wall s (median) | msgs/s | CPU s | peak RSS MB | notes |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        notes = [f"walls {r['walls']}"]
        if "engine_s" in r:
            notes.append(f"engine {r['engine_s']:.2f} s")
        if "main_rss_mb" in r:
            notes.append(f"RSS main {r['main_rss_mb']:.0f} + helpers {r['helper_rss_mb']:.0f} MB")
            notes.append(f"CPU main {r['main_cpu']:.1f} + helper {r['helper_cpu']:.1f} s")
        if r.get("db_mb"):
            notes.append(f"SQLite {r['db_mb']:.0f} MB")
        if r.get("files_mb"):
            notes.append(f"attachment files {r['files_mb']:.0f} MB")
        rate = f"{r['msgs_per_s']:,.0f}" if r["messages"] else "-"
        lines.append(f"| {r['what']} | {r['runs']} | {r['wall']:.2f} | {rate} | {r['cpu']:.1f} | "
                     f"{r['rss_mb']:.0f} | {'; '.join(notes)} |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_engine":
        engine_role(sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "")
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--yardstick", type=Path, required=True,
                        help="folder with gen_corpus.py, raw_fetch.py, add_new.py")
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="kept between runs (the corpus takes ~75 s)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--diagnose", action="store_true",
                        help="also time first syncs without full-text indexing and with attachments in the database")
    args = parser.parse_args()
    if args.workdir is None:
        args.workdir = Path(tempfile.gettempdir()) / "inboxbridge-sync-bench"
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.workdir.chmod(0o755)  # Dovecot's mail user must reach the Maildirs
    sizes = [int(x) for x in args.sizes.split(",")]
    started = time.strftime("%Y-%m-%d %H:%M")
    results: list[dict[str, Any]] = []
    try:
        for index, n in enumerate(sizes):
            results += run_size(args, n, last=index == len(sizes) - 1)
    finally:
        for path in RETIRED:
            shutil.rmtree(path, ignore_errors=True)
    report = {"date": started, "cpus": os.cpu_count(), "load_before": os.getloadavg(), "results": results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    print(f"sync bench {started}, {os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.1f}")
    print(table(results))


if __name__ == "__main__":
    main()
