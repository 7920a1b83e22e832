"""Sync benchmark: inboxbridge against the yardstick (raw fetch, mbsync) in one run, over IMAPS.

    python bench/sync_bench.py --yardstick DIR [--n 20000 --archive 5000] [--workdir DIR] [--runs 1]

DIR is the folder holding gen_corpus.py, raw_fetch.py and add_new.py. A standalone Dovecot is
started on loopback (plain + IMAPS port, passwd-file login) holding the generated corpus; every
measured client runs in a fresh process under /usr/bin/time -v. Prints a Markdown table and writes
a JSON file with every figure next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trustme

USER, PASSWORD = "perf@example.com", "perfpw"
FOLDERS = ("INBOX", "Archive")
ROOT = Path(__file__).resolve().parent.parent


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
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        w = self.workdir
        mail = pwd.getpwnam("mail")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(self.cafile))
        cert.private_key_and_cert_chain_pem.write_to_path(str(w / "server.pem"))
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

    def generate(self, yardstick: Path, n: int, archive: int) -> None:
        """Write the corpus once per size; the Maildir is kept between bench runs."""
        stamp = self.workdir / "corpus.json"
        wanted = {"n": n, "archive": archive}
        if stamp.exists() and json.loads(stamp.read_text()) == wanted:
            return
        shutil.rmtree(self.home, ignore_errors=True)
        self.maildir.mkdir(parents=True)
        subprocess.run([sys.executable, str(yardstick / "gen_corpus.py"), "--maildir", str(self.maildir),
                        "--n", str(n), "--archive", str(archive)], check=True)
        mail = pwd.getpwnam("mail")
        for path in [self.home, *self.home.rglob("*")]:
            os.chown(path, mail.pw_uid, mail.pw_gid)
        stamp.write_text(json.dumps(wanted))
