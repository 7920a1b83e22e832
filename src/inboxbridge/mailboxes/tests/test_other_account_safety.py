"""The "Other" account check, sync and sending are no way into this server's network: hosts on
private networks and hosts outside the administrator's list are refused before any connection
(at the check and again at every sync and send), nothing a server says reaches the page, checks
are rate-limited per user and time out quickly, and the stored password never goes to a new server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.mailboxes.tests.listener import Listener

SAVE = reverse("mailboxes:save-other")
PAGE = reverse("mailboxes:email-configuration")
SSH_BANNER = b"SSH-2.0-OpenSSH_9.6p1 internal-bastion-7\r\n"
STORED_PASSWORD = "stored-secret-pw-4471"

pytestmark = pytest.mark.django_db


@pytest.fixture
def ssh_server() -> Iterator[Listener]:
    server = Listener(SSH_BANNER)
    yield server
    server.close()


@pytest.fixture
def guard_on(settings: Any) -> None:
    """As in production: private, loopback and link-local addresses refused."""
    settings.ALLOW_PRIVATE_MAIL_HOSTS = False


def account(port: int, host: str = "127.0.0.1", *, imap_ssl: bool = False, password: str = "typed-password",
            **fields: Any) -> dict[str, Any]:
    form = {"email_address": "me@example.test", "imap_host": host, "imap_port": port, "smtp_host": host,
            "smtp_port": port, "smtp_security": "starttls", "username": "me@example.test", "password": password,
            **fields}
    if imap_ssl:
        form["imap_ssl"] = "on"
    return form


def saved_account(owner: Any, port: int, **fields: Any) -> Mailbox:
    values = {"email_address": "me@example.test", "imap_host": "127.0.0.1", "imap_port": port, "imap_ssl": False,
              "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "starttls",
              "username": "me@example.test", "password": STORED_PASSWORD, **fields}
    return make_mailbox(owner, folders=(), **values)


def page_of(mailbox: Mailbox, name: str = "mailboxes:mailbox") -> str:
    """A URL of one of the user's mailboxes in Email Configuration."""
    return reverse(name, args=[mailbox.pk])


def configure_other_servers(client: Any, admin: Any, *, enabled: bool = True, allowed: str = "") -> None:
    client.force_login(admin)
    form = {"allowed_hosts": allowed, **({"enabled": "on"} if enabled else {})}
    assert client.post(reverse("mailbox-settings:other-mail-servers"), form).status_code == 302
    client.logout()


def test_a_check_of_a_loopback_host_is_refused_before_connecting(client, plain_user, ssh_server, guard_on):
    client.force_login(plain_user)
    for host in ("127.0.0.1", "localhost"):
        response = client.post(SAVE, account(ssh_server.port, host))
        page = response.content.decode()
        assert response.status_code == 400
        assert f"{host} is on a private or reserved network, which this server does not connect to." in page
    ssh_server.settle()
    assert ssh_server.connections == 0
    assert not Mailbox.objects.exists()


@pytest.mark.parametrize("imap_ssl,failure", [
    (False, "IMAP check failed: 127.0.0.1:{port} did not answer like an IMAP server."),
    (True, "IMAP check failed: TLS with 127.0.0.1:{port} failed. Check the port and the security setting."),
])
def test_what_a_server_answers_never_reaches_the_page(client, plain_user, ssh_server, imap_ssl, failure):
    client.force_login(plain_user)
    page = client.post(SAVE, account(ssh_server.port, imap_ssl=imap_ssl)).content.decode()
    for word in ("SSH-2.0", "OpenSSH", "internal-bastion"):
        assert word not in page
    assert failure.format(port=ssh_server.port) in page
    assert b"typed-password" not in ssh_server.received


def test_a_host_outside_the_allowlist_is_refused_without_a_connection(client, admin_user, plain_user, ssh_server):
    configure_other_servers(client, admin_user, allowed="imap.example.com, *.example.org")
    client.force_login(plain_user)
    assert "imap.example.com, *.example.org" in client.get(PAGE + "?type=other").content.decode()

    response = client.post(SAVE, account(ssh_server.port))
    assert response.status_code == 400
    assert ("127.0.0.1 is not one of the mail servers this server may connect to. An administrator can add it in "
            "System &gt; Configuration &gt; Other Mail Servers.") in response.content.decode()

    # The IMAP server is allowed, the SMTP server is not: neither is contacted with the password.
    configure_other_servers(client, admin_user, allowed="127.0.0.1, *.example.org")
    client.force_login(plain_user)
    response = client.post(SAVE, account(ssh_server.port, smtp_host="smtp.elsewhere.test"))
    assert response.status_code == 400
    assert "smtp.elsewhere.test is not one of the mail servers" in response.content.decode()
    ssh_server.settle()
    assert ssh_server.connections == 0
    assert not Mailbox.objects.exists()


def test_with_other_accounts_turned_off_the_page_offers_none_and_a_post_is_refused(
        client, admin_user, plain_user, ssh_server):
    configure_other_servers(client, admin_user, enabled=False)
    client.force_login(plain_user)
    assert 'value="other"' not in client.get(PAGE).content.decode()
    assert 'id="other-account-form"' not in client.get(PAGE + "?type=other").content.decode()

    page = client.post(SAVE, account(ssh_server.port), follow=True).content.decode()
    assert "Other mail accounts are turned off on this server." in page
    ssh_server.settle()
    assert ssh_server.connections == 0
    assert not Mailbox.objects.exists()


def test_an_existing_other_account_says_it_is_turned_off(client, admin_user, plain_user, settings):
    settings.OTHER_ACCOUNTS_ENABLED = False  # the deployment default, no stored setting
    mailbox = saved_account(plain_user, 993)
    client.force_login(plain_user)
    page = client.get(page_of(mailbox)).content.decode()
    assert "Other mail accounts are turned off on this server." in page
    assert "This mailbox does not synchronize meanwhile." in page
    assert 'id="other-account-form"' not in page


def test_checks_are_limited_to_five_per_user_in_ten_minutes(client, plain_user, django_user_model, ssh_server):
    client.force_login(plain_user)
    for _ in range(5):
        assert client.post(SAVE, account(ssh_server.port)).status_code == 400
    ssh_server.settle()
    assert ssh_server.connections == 5

    response = client.post(SAVE, account(ssh_server.port))
    assert response.status_code == 429
    assert ("Too many checks: mail server settings can be checked 5 times in 10 minutes. Try again in 10 minutes."
            in response.content.decode())
    ssh_server.settle()
    assert ssh_server.connections == 5

    other = django_user_model.objects.create_user("bob", "bob@example.test", "bob-password-1")
    client.force_login(other)
    assert client.post(SAVE, account(ssh_server.port)).status_code == 400  # another user's checks are their own


def test_a_check_waits_for_a_silent_server_only_the_short_check_timeout(client, plain_user, settings):
    settings.MAIL_NETWORK_TIMEOUT = 8
    settings.MAIL_CHECK_TIMEOUT = 1
    silent = Listener(silent=True)
    client.force_login(plain_user)
    started = time.monotonic()
    page = client.post(SAVE, account(silent.port)).content.decode()
    assert time.monotonic() - started < 4
    assert f"IMAP check failed: 127.0.0.1:{silent.port} did not answer within 1 seconds." in page
    silent.close()


def test_changing_the_server_of_a_saved_account_needs_the_password_again(client, plain_user):
    old_server, new_server = Listener(imap=True), Listener(imap=True)
    mailbox = saved_account(plain_user, old_server.port)
    client.force_login(plain_user)

    change_url = page_of(mailbox, "mailboxes:mailbox-other")
    for change in ({"imap_port": new_server.port, "smtp_port": new_server.port},
                   {"imap_host": "localhost"}, {"smtp_security": "none"}, {"imap_ssl": True}):
        response = client.post(change_url, account(old_server.port, password="", **change))
        assert response.status_code == 400
        assert "You changed the mail server settings: enter the password again." in response.content.decode()
    new_server.settle()
    assert new_server.connections == 0 and old_server.connections == 0
    assert Mailbox.objects.get(owner=plain_user).imap_port == old_server.port
    old_server.close()
    new_server.close()


@pytest.mark.mailserver
def test_the_stored_password_never_goes_to_a_new_smtp_server_in_clear_text(
        client, plain_user, mail_stack, identity, settings):
    settings.CA_BUNDLE = str(identity.ca_file)
    password = mail_stack.add_user("other@example.test")
    real = {**account(mail_stack.imaps_port, mail_stack.host, imap_ssl=True, password=password),
            "smtp_port": mail_stack.submission_port, "username": "other@example.test"}
    client.force_login(plain_user)
    assert "checked and saved" in client.post(SAVE, real, follow=True).content.decode()
    change = page_of(Mailbox.objects.get(owner=plain_user), "mailboxes:mailbox-other")

    collector = Listener(smtp=True)
    moved = {**real, "password": "", "smtp_port": collector.port, "smtp_security": "none"}
    response = client.post(change, moved)
    collector.settle()
    assert password.encode() not in bytes(collector.received) and "AUTH" not in collector.received.decode()
    assert collector.connections == 0
    assert response.status_code == 400
    assert "enter the password again" in response.content.decode()
    assert Mailbox.objects.get(owner=plain_user).smtp_port == mail_stack.submission_port
    collector.close()

    # The same servers: an empty field keeps the stored password, which the check uses there.
    assert "checked and saved" in client.post(change, {**real, "password": ""}, follow=True).content.decode()
    assert Mailbox.objects.get(owner=plain_user).password == password


def test_the_worker_refuses_to_sync_a_saved_account_whose_server_is_now_refused(
        client, plain_user, ssh_server, settings):
    from inboxbridge.jobs.runner import run_sync

    mailbox = saved_account(plain_user, ssh_server.port)
    settings.ALLOW_PRIVATE_MAIL_HOSTS = False
    summary = run_sync(mailbox.pk, manual=True)
    assert "127.0.0.1 is on a private or reserved network, which this server does not connect to." in summary.error
    mailbox.refresh_from_db()
    assert mailbox.state == Mailbox.State.ERROR
    client.force_login(plain_user)
    assert "private or reserved network" in client.get(page_of(mailbox)).content.decode()

    settings.ALLOW_PRIVATE_MAIL_HOSTS = True
    settings.OTHER_ACCOUNTS_ALLOWED_HOSTS = "*.example.org"  # the deployment default of the allowlist
    Mailbox.objects.filter(pk=mailbox.pk).update(next_sync_at=None, failure_count=0)
    summary = run_sync(mailbox.pk, manual=True)
    assert "127.0.0.1 is not one of the mail servers this server may connect to." in summary.error
    ssh_server.settle()
    assert ssh_server.connections == 0


def test_sending_from_a_saved_account_whose_server_is_now_refused_fails_clearly(plain_user, ssh_server, guard_on):
    from inboxbridge.sending.models import OutgoingMessage
    from inboxbridge.sending.tasks import send_outgoing_message
    from inboxbridge.sending.tests.helpers import queue

    mailbox = saved_account(plain_user, ssh_server.port)
    message = queue(mailbox, to="someone@example.test")
    assert send_outgoing_message.call(message.pk) == "failed"
    message = OutgoingMessage.objects.get(pk=message.pk)
    assert "127.0.0.1 is on a private or reserved network" in message.last_error
    ssh_server.settle()
    assert ssh_server.connections == 0


def test_retrieving_folders_never_shows_what_the_server_said(client, plain_user, ssh_server):
    mailbox = saved_account(plain_user, ssh_server.port)
    client.force_login(plain_user)
    page = client.post(page_of(mailbox, "mailboxes:retrieve-folders"), follow=True).content.decode()
    assert f"The folders could not be retrieved. 127.0.0.1:{ssh_server.port} did not answer like an IMAP server." \
        in page
    assert "OpenSSH" not in page and "SSH-2.0" not in page


@pytest.mark.mailserver
def test_a_refused_login_is_reported_without_the_servers_words(client, plain_user, mail_stack, identity, settings):
    settings.CA_BUNDLE = str(identity.ca_file)
    mail_stack.add_user("other@example.test")
    client.force_login(plain_user)
    form = {**account(mail_stack.imaps_port, mail_stack.host, imap_ssl=True, password="wrong"),
            "smtp_port": mail_stack.submission_port, "username": "other@example.test"}
    page = client.post(SAVE, form).content.decode()
    assert (f"IMAP check failed: the server at {mail_stack.host}:{mail_stack.imaps_port} refused the login of "
            "other@example.test. Check the username and password.") in page
    assert "AUTHENTICATIONFAILED" not in page and "Authentication failed" not in page


@pytest.mark.mailserver
def test_an_smtp_port_where_no_smtp_server_answers_is_named_without_its_words(
        client, plain_user, mail_stack, identity, settings, ssh_server):
    settings.CA_BUNDLE = str(identity.ca_file)
    password = mail_stack.add_user("other@example.test")
    client.force_login(plain_user)
    form = {**account(mail_stack.imaps_port, mail_stack.host, imap_ssl=True, password=password),
            "smtp_port": ssh_server.port, "username": "other@example.test"}
    page = client.post(SAVE, form).content.decode()
    assert "OpenSSH" not in page and "SSH-2.0" not in page
    assert (f"SMTP check failed: {mail_stack.host}:{ssh_server.port} did not answer like an SMTP server. Check the "
            "host, the port and the security setting.") in page
    assert password.encode() not in ssh_server.received
