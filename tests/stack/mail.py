"""Dovecot (IMAP, POP3, LMTP) and Postfix (inbound SMTP, submission) on loopback for tests.

Both run as independent instances with their own configuration, ports, sockets and queue,
next to (never instead of) any system mail service. Dovecot accepts the users' passwords and
the identity stand-in's access tokens (XOAUTH2/OAUTHBEARER): for every token login its passdb
asks the stand-in, which applies Exchange Online's rules (own mailbox, Full Access for a
delegate or a service principal; see identity_exchange.py). Postfix delivers the domain's mail
into Dovecot over LMTP, checks submission logins through Dovecot's auth socket, and asks
whether the login may send as the envelope sender (Send As). Both questions reach the stand-in
through exchange_service.py.

Shared mailboxes (`add_shared_mailbox`) receive mail and have no password login; a delegate
with Full Access or a granted app opens them with a token and user= the shared address, and
`imap()` opens them for the tests' own look through a Dovecot master user (the inspector).
"""

from __future__ import annotations

import email.message
import email.policy
import imaplib
import json
import os
import pwd
import secrets
import shutil
import signal
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import trustme

from .exchange_service import ExchangeService
from .identity import IdentityStandIn
from .mail_config import (
    INSPECTOR,
    StackLayout,
    dovecot_conf,
    inspector_passwd,
    postfix_main_cf,
    postfix_master_cf,
    users_conf,
)
from .netutil import find_binary, free_ports, wait_listening

REAPER = Path(__file__).with_name("reaper.py")
EXCHANGE_PASSDB = Path(__file__).with_name("exchange_passdb.lua")
START_TIMEOUT = 10.0
DELIVERY_TIMEOUT = 10.0


class MailStackError(RuntimeError):
    pass


class MailStack:
    host = "127.0.0.1"

    def __init__(
        self,
        workdir: Path,
        ca: trustme.CA,
        identity: IdentityStandIn,
        domain: str = "example.test",
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ca = ca
        self.identity = identity
        self.domain = domain
        self.imaps_port = 0
        self.imap_port = 0
        self.pop3s_port = 0
        self.smtp_port = 0
        self.submission_port = 0
        self._users: dict[str, str | None] = {}  # address -> password (None: a shared mailbox)
        self._exchange: ExchangeService | None = None
        self._inspector_password = secrets.token_urlsafe(18)
        self._layout: StackLayout | None = None
        self._dovecot: subprocess.Popen[bytes] | None = None
        self._postfix: subprocess.Popen[bytes] | None = None
        self._outputs: list[IO[bytes]] = []

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        if self._layout is not None:
            return
        if os.geteuid() != 0:
            # Postfix's master refuses to run as anyone but root, and Dovecot needs root
            # to switch to the mail user.
            raise MailStackError("the mail stack needs root (Postfix only runs as root)")
        dovecot_bin, postfix_bin = find_binary("dovecot"), find_binary("postfix")
        self._exchange = ExchangeService(self.identity.exchange_login, self.identity.exchange_send_as)
        self._exchange.start()
        try:
            layout = self._layout = self._make_layout()
            self._write_config(layout)
            self._dovecot = self._spawn([dovecot_bin, "-F", "-c", str(layout.dovecot_conf)], "dovecot")
            self._postfix = self._spawn([postfix_bin, "-c", str(layout.postfix_dir), "start-fg"], "postfix")
            self._wait_ready(layout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        layout = self._layout
        if self._postfix is not None:
            _terminate(self._postfix)
            self._postfix = None
        if self._dovecot is not None:
            _terminate(self._dovecot)
            self._dovecot = None
        if self._exchange is not None:
            self._exchange.stop()
            self._exchange = None
        for output in self._outputs:
            output.close()
        self._outputs = []
        if layout is not None:
            shutil.rmtree(layout.run_dir, ignore_errors=True)
            self._layout = None

    # -- users and mail ------------------------------------------------------------------

    def add_user(self, address: str, password: str | None = None) -> str:
        password = password if password is not None else secrets.token_urlsafe(18)
        if "/" in address or "@" not in address:
            raise ValueError(f"not a usable mail address: {address!r}")
        address = address.lower()  # Dovecot looks users up lowercased (%Lu)
        self._users[address] = password
        if self._layout is not None:
            self._write_user(self._layout, address)
        return password

    def add_shared_mailbox(self, address: str) -> None:
        """A shared mailbox: mail can be delivered to it, nobody logs in with a password, and
        the directory (the identity stand-in) knows it, so granted delegates and apps open it."""
        if "/" in address or "@" not in address:
            raise ValueError(f"not a usable mail address: {address!r}")
        address = address.lower()
        self._users[address] = None
        if self._layout is not None:
            self._write_user(self._layout, address)
        self.identity.add_shared_mailbox(address)

    def deliver(
        self,
        message: bytes | email.message.EmailMessage,
        to: str,
        sender: str = "sender@elsewhere.test",
    ) -> None:
        """Send through the inbound SMTP port and wait until the message is in the INBOX."""
        data = (
            message.as_bytes(policy=email.policy.SMTP) if isinstance(message, email.message.EmailMessage) else message
        )
        before = self._maildir_files(to)
        with smtplib.SMTP(self.host, self.smtp_port, timeout=DELIVERY_TIMEOUT) as smtp:
            smtp.sendmail(sender, [to], data)
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while time.monotonic() < deadline:
            if self._maildir_files(to) - before:
                return
            time.sleep(0.01)
        raise MailStackError(f"message to {to} not delivered within {DELIVERY_TIMEOUT} s\n{self.log()}")

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the stack's CA (and only it)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def imap(self, address: str) -> imaplib.IMAP4_SSL:
        """A logged-in IMAP session on a user's or a shared mailbox, for looking at its mail; a
        shared mailbox has no password, so the stack's inspector (a Dovecot master user) opens it."""
        key = address.lower()
        if key not in self._users:
            raise MailStackError(f"{address} is not a mailbox of the mail stack (add_user or add_shared_mailbox first)")
        password = self._users[key]
        client = imaplib.IMAP4_SSL(self.host, self.imaps_port, ssl_context=self.ssl_context())
        if password is None:
            client.login(f"{key}*{INSPECTOR}", self._inspector_password)
        else:
            client.login(address, password)
        return client

    def maildir(self, address: str) -> Path:
        layout = self._require_started()
        local, _, domain = address.lower().partition("@")
        return layout.mail_root / domain / local / "Maildir"

    def log(self) -> str:
        parts = []
        names = ("dovecot.log", "dovecot.out", "postfix.log", "postfix.out")
        for name in names:
            path = self.workdir / name
            if path.exists():
                parts.append(f"==== {name} ====\n" + path.read_text(errors="replace"))
        return "\n".join(parts)

    # -- internals -----------------------------------------------------------------------

    def _require_started(self) -> StackLayout:
        if self._layout is None:
            raise MailStackError("MailStack is not started")
        return self._layout

    def _make_layout(self) -> StackLayout:
        # The mail user, Dovecot's login/auth users and Postfix's daemons must reach the
        # sockets, queue and Maildirs; the test's tmp_path (mode 0700 chain) is out of their
        # reach, so those live in a runtime dir of their own that stop() removes.
        run_dir = Path(tempfile.mkdtemp(prefix="inboxbridge-mail-"))
        run_dir.chmod(0o755)
        # Dovecot refuses uid 0 for mail access; Debian always has the "mail" user.
        try:
            mail_user = pwd.getpwnam("mail")
            mail_uid, mail_gid = mail_user.pw_uid, mail_user.pw_gid
        except KeyError:
            mail_uid = mail_gid = 5000
        ports = free_ports(5)
        (self.imap_port, self.imaps_port, self.pop3s_port, self.smtp_port, self.submission_port) = ports
        cert = self.ca.issue_cert("127.0.0.1", "localhost", f"mail.{self.domain}")
        tls_dir = run_dir / "tls"
        tls_dir.mkdir(mode=0o755)
        cert.cert_chain_pems[0].write_to_path(str(tls_dir / "cert.pem"))
        with (tls_dir / "cert.pem").open("ab") as chain:
            for extra in cert.cert_chain_pems[1:]:
                chain.write(extra.bytes())
        cert.private_key_pem.write_to_path(str(tls_dir / "key.pem"))
        (tls_dir / "key.pem").chmod(0o600)
        return StackLayout(
            conf_dir=self.workdir,
            run_dir=run_dir,
            domain=self.domain,
            imap_port=self.imap_port,
            imaps_port=self.imaps_port,
            pop3s_port=self.pop3s_port,
            smtp_port=self.smtp_port,
            submission_port=self.submission_port,
            mail_uid=mail_uid,
            mail_gid=mail_gid,
            login_user="dovenull",
            internal_user="dovecot",
            cert_file=tls_dir / "cert.pem",
            key_file=tls_dir / "key.pem",
            exchange_port=self._exchange.port if self._exchange is not None else 0,
        )

    def _write_config(self, layout: StackLayout) -> None:
        layout.mail_root.mkdir()
        os.chown(layout.mail_root, layout.mail_uid, layout.mail_gid)
        layout.queue_dir.mkdir()
        layout.postfix_data_dir.mkdir()
        postfix_user = pwd.getpwnam("postfix")
        os.chown(layout.postfix_data_dir, postfix_user.pw_uid, postfix_user.pw_gid)
        layout.postfix_dir.mkdir(exist_ok=True)
        for stale in (layout.dovecot_log, layout.postfix_log):
            stale.unlink(missing_ok=True)
        layout.dovecot_conf.write_text(dovecot_conf(layout))
        layout.users_conf.write_text(users_conf(layout))
        layout.inspector_passwd.write_text(inspector_passwd(self._inspector_password))
        layout.inspector_passwd.chmod(0o600)
        script = EXCHANGE_PASSDB.read_text()
        layout.exchange_passdb.write_text(f"EXCHANGE_PORT = {layout.exchange_port}\n\n{script}")
        for address in self._users:
            self._write_user(layout, address)
        past = time.time() - 60
        for name, text in (("main.cf", postfix_main_cf(layout)), ("master.cf", postfix_master_cf(layout))):
            path = layout.postfix_dir / name
            path.write_text(text)
            # Postfix waits (up to about 2 s) until a just-modified main.cf is "stable".
            os.utime(path, (past, past))

    def _write_user(self, layout: StackLayout, address: str) -> None:
        local, _, domain = address.partition("@")
        password = self._users[address]
        records: dict[str, dict[str, str]] = {
            "userdb": {
                "uid": str(layout.mail_uid),
                "gid": str(layout.mail_gid),
                "home": str(layout.mail_root / domain / local),
            },
        }
        if password is not None:
            records["passdb"] = {"password": password}
        else:  # no passdb record: no password login
            (layout.users_dir / "passdb" / address).unlink(missing_ok=True)
        for kind, record in records.items():
            path = layout.users_dir / kind / address
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(record))
            tmp.replace(path)  # Dovecot never sees half a file

    def _spawn(self, argv: list[str], name: str) -> subprocess.Popen[bytes]:
        output = (self.workdir / f"{name}.out").open("wb")
        self._outputs.append(output)
        env = dict(os.environ)
        env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin:/usr/local/sbin"
        env["INBOXBRIDGE_REAPER_PARENT"] = str(os.getpid())
        # Under the reaper, stopping ends the whole process tree (see reaper.py).
        return subprocess.Popen(
            [sys.executable, str(REAPER), *argv],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )

    def _wait_ready(self, layout: StackLayout) -> None:
        ports = [self.imap_port, self.imaps_port, self.pop3s_port, self.smtp_port, self.submission_port]
        sockets = [layout.base_dir / "lmtp", layout.base_dir / "auth-client"]
        processes = {"dovecot": self._dovecot, "postfix": self._postfix}
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            for name, process in processes.items():
                if process is not None and process.poll() is not None:
                    raise MailStackError(f"{name} exited with {process.returncode}\n{self.log()}")
            if wait_listening(ports, 0) and all(p.exists() for p in sockets):
                return
            if time.monotonic() > deadline:
                raise MailStackError(f"mail stack not ready after {START_TIMEOUT} s\n{self.log()}")
            time.sleep(0.02)

    def _maildir_files(self, address: str) -> set[str]:
        root = self.maildir(address)
        names: set[str] = set()
        for sub in ("new", "cur"):
            try:
                names.update(entry.name.split(":")[0] for entry in os.scandir(root / sub))
            except FileNotFoundError:
                pass
        return names


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """Stop a server's reaper, which ends the server's whole process tree."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    try:
        # Backstop for anything left in the reaper's own session (normally nothing).
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
