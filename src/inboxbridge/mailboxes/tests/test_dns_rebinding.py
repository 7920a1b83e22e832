"""An "Other" account's server name that answers a public address when it is vetted and this
server's own network a moment later (DNS rebinding) gets nowhere: the check, the sync and sending
connect to the address that was vetted, never to a second lookup of the name; and the server's
certificate is still checked for the name the user typed."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.urls import reverse

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tests.listener import Listener

SAVE = reverse("mailboxes:save-other")
PUBLIC = "93.184.216.34"  # a public address: the vetting lets it through

pytestmark = pytest.mark.django_db

Answers = Callable[[str, list[str | None]], None]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Answers, list[str]]]:
    """A resolver the test scripts: `answer(name, [first, second, ...])` gives each lookup of the
    name the next address (the last one from then on; None: the name is not found). Returns it
    and the hosts every connection went to; connections to PUBLIC are refused (nothing leaves)."""
    real_lookup, real_connect = socket.getaddrinfo, socket.create_connection
    scripted: dict[str, list[str | None]] = {}
    lookups: Counter[str] = Counter()
    attempts: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in scripted:
            return real_lookup(host, port, *args, **kwargs)
        answers = scripted[host]
        address = answers[min(lookups[host], len(answers) - 1)]
        lookups[host] += 1
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port)))]

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address[0])
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(111, "Connection refused")
        return real_connect(address, *args, **kwargs)  # looks a name up with getaddrinfo above

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    def answer(name: str, answers: list[str | None]) -> None:
        scripted[name], lookups[name] = answers, 0

    yield answer, attempts


@pytest.fixture
def rebinding(dns: tuple[Answers, list[str]], settings: Any) -> Iterator[tuple[Listener, list[str]]]:
    """imap.rebind.test and smtp.rebind.test answer PUBLIC once, then 127.0.0.1, where a listener
    waits; private addresses are refused, as in production."""
    settings.ALLOW_PRIVATE_MAIL_HOSTS = False
    answer, attempts = dns
    for name in ("imap.rebind.test", "smtp.rebind.test"):
        answer(name, [PUBLIC, "127.0.0.1"])
    listener = Listener(imap=True)
    yield listener, attempts
    listener.close()


def account(port: int, **fields: Any) -> dict[str, Any]:
    return {"email_address": "me@example.test", "imap_host": "imap.rebind.test", "imap_port": port,
            "smtp_host": "smtp.rebind.test", "smtp_port": port, "smtp_security": "none", "username": "me",
            "password": "typed-password", **fields}


def saved_account(owner: Any, port: int) -> Mailbox:
    return Mailbox.objects.create(owner=owner, account_type=Mailbox.AccountType.OTHER, state=Mailbox.State.IDLE,
                                  imap_ssl=False, **{k: v for k, v in account(port).items() if k != "smtp_security"},
                                  smtp_security="none")


def test_the_server_check_connects_only_to_the_address_it_vetted(client, plain_user, rebinding):
    listener, attempts = rebinding
    client.force_login(plain_user)
    page = client.post(SAVE, account(listener.port)).content.decode()
    assert f"IMAP check failed: could not connect to imap.rebind.test:{listener.port}." in page
    listener.settle()
    assert listener.connections == 0 and b"typed-password" not in listener.received
    assert attempts == [PUBLIC]
    assert not Mailbox.objects.exists()


def test_the_sync_connects_only_to_the_address_it_vetted(plain_user, rebinding):
    from inboxbridge.jobs.runner import run_sync

    listener, attempts = rebinding
    mailbox = saved_account(plain_user, listener.port)
    summary = run_sync(mailbox.pk, manual=True)
    assert f"Could not connect to imap.rebind.test:{listener.port}" in summary.error
    listener.settle()
    assert listener.connections == 0
    assert set(attempts) == {PUBLIC}


def test_sending_connects_only_to_the_address_it_vetted(plain_user, rebinding):
    from inboxbridge.sending.models import OutgoingMessage
    from inboxbridge.sending.tasks import send_outgoing_message
    from inboxbridge.sending.tests.helpers import queue

    listener, attempts = rebinding
    message = queue(saved_account(plain_user, listener.port), to="someone@example.test")
    send_outgoing_message.call(message.pk)
    assert f"Could not connect to smtp.rebind.test:{listener.port}" in OutgoingMessage.objects.get(
        pk=message.pk).last_error
    listener.settle()
    assert listener.connections == 0 and b"typed-password" not in listener.received
    assert set(attempts) == {PUBLIC}


@pytest.mark.mailserver
@pytest.mark.parametrize("imap_ssl", [True, False], ids=["imaps", "imap-starttls"])
def test_the_certificate_is_checked_for_the_typed_name_at_the_vetted_address(
        client, plain_user, mail_stack, identity, settings, dns, imap_ssl):
    """The stack's certificate names mail.example.test; that name resolves for the two vettings
    (IMAP, SMTP) and never again: only a connection to the vetted address can reach the server."""
    settings.CA_BUNDLE = str(identity.ca_file)
    answer, attempts = dns
    typed = f"mail.{mail_stack.domain}"
    answer(typed, ["127.0.0.1", "127.0.0.1", None])
    password = mail_stack.add_user("other@example.test")
    form = {**account(mail_stack.imaps_port if imap_ssl else mail_stack.imap_port, password=password),
            "imap_host": typed, "smtp_host": typed, "smtp_port": mail_stack.submission_port,
            "smtp_security": "starttls", "username": "other@example.test", **({"imap_ssl": "on"} if imap_ssl else {})}
    client.force_login(plain_user)
    assert "checked and saved" in client.post(SAVE, form, follow=True).content.decode()
    assert set(attempts) == {"127.0.0.1"}

    # The same server and address under a name its certificate does not carry: not trusted.
    answer("elsewhere.example.test", ["127.0.0.1", None])
    answer(typed, ["127.0.0.1", None])
    change = reverse("mailboxes:mailbox-other", args=[Mailbox.objects.get(owner=plain_user).pk])
    page = client.post(change, {**form, "imap_host": "elsewhere.example.test"}).content.decode()
    assert (f"IMAP check failed: the TLS certificate of elsewhere.example.test:{form['imap_port']} is not trusted"
            in page)
