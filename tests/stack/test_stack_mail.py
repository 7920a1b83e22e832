"""Self-tests of the mail stack: passwords and stand-in tokens at IMAP, POP3 and SMTP."""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import imaplib
import poplib
import smtplib
import uuid
from dataclasses import dataclass

import pytest

from tests.stack.helpers import MAIL_SCOPES, imap_xoauth2, msal_app, pop3_xoauth2, sign_in, xoauth2
from tests.stack.identity import IdentityStandIn
from tests.stack.mail import MailStack

pytestmark = pytest.mark.mailserver
CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"


@dataclass
class Mailbox:
    address: str
    password: str


@pytest.fixture
def mailbox(mail_stack: MailStack, identity: IdentityStandIn) -> Mailbox:
    """A mail user who is also a user of the stand-in, with the same password."""
    address = f"box-{uuid.uuid4().hex[:10]}@example.test"
    password = mail_stack.add_user(address)
    identity.add_user(address, password)
    return Mailbox(address, password)


@pytest.fixture
def address(mailbox: Mailbox) -> str:
    return mailbox.address


def _imaps(mail_stack: MailStack) -> imaplib.IMAP4_SSL:
    return imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=mail_stack.ssl_context())


def _message(subject: str, to: str, sender: str) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = email.utils.make_msgid(domain="example.test")
    message.set_content("Hello from the test stack.\n")
    return message


def _subjects(mail_stack: MailStack, address: str) -> list[str]:
    client = mail_stack.imap(address)
    try:
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        headers = [item[1] for item in data if isinstance(item, tuple)]
        return [str(email.message_from_bytes(h, policy=email.policy.default)["Subject"]) for h in headers]
    finally:
        client.logout()


def test_password_login_and_special_use_folders(mail_stack: MailStack, address: str) -> None:
    client = mail_stack.imap(address)
    try:
        _, folders = client.list()
        listing = b"\n".join(f for f in folders if isinstance(f, bytes))
        for flag, name in [
            (b"\\Sent", b"Sent"),
            (b"\\Drafts", b"Drafts"),
            (b"\\Trash", b"Trash"),
            (b"\\Junk", b"Junk"),
            (b"\\Archive", b"Archive"),
        ]:
            assert flag in listing and name in listing
        assert b'"/"' in listing  # Exchange's hierarchy separator
        _, caps = client.capability()
        assert b"CONDSTORE" in caps[0] and b"QRESYNC" in caps[0]
    finally:
        client.logout()


def test_plain_imap_port_for_benchmarks(mail_stack: MailStack, address: str) -> None:
    client = imaplib.IMAP4(mail_stack.host, mail_stack.imap_port)
    try:
        typ, _ = client.login(address, mail_stack.add_user(address, "known-pass"))
        assert typ == "OK"
    finally:
        client.logout()


def test_imap_xoauth2_with_issued_token(mail_stack: MailStack, identity: IdentityStandIn, address: str) -> None:
    client = _imaps(mail_stack)
    try:
        typ, _ = imap_xoauth2(client, address, identity.issue_access_token(address, CLIENT_ID))
        assert typ == "OK"
        assert client.select("INBOX")[0] == "OK"
    finally:
        client.logout()


@pytest.mark.parametrize("problem", ["expired", "other user", "graph audience", "foreign key"])
def test_imap_xoauth2_refuses_bad_tokens(
    mail_stack: MailStack, identity: IdentityStandIn, mailbox: Mailbox, problem: str
) -> None:
    address = mailbox.address
    if problem == "expired":
        token = identity.issue_access_token(address, CLIENT_ID, lifetime=-60)
    elif problem == "other user":
        token = identity.issue_access_token("someone-else@example.test", CLIENT_ID)
    elif problem == "graph audience":
        # A token for scopes written without the outlook prefix: Graph's, not Exchange's.
        app = str(uuid.uuid4())
        identity.register_app(app, "app-secret", None)
        token = _signed_in_token(identity, app, mailbox, ["IMAP.AccessAsUser.All"])
    else:
        header, payload, _ = identity.issue_access_token(address, CLIENT_ID).split(".")
        token = f"{header}.{payload}.{'A' * 342}"
    client = _imaps(mail_stack)
    try:
        with pytest.raises(imaplib.IMAP4.error, match=r"AUTHENTICATIONFAILED|Authentication failed"):
            imap_xoauth2(client, address, token)
    finally:
        client.shutdown()


def _signed_in_token(identity: IdentityStandIn, client_id: str, mailbox: Mailbox, scopes: list[str]) -> str:
    """An access token obtained like the product does: MSAL and the sign-in form."""
    app = msal_app(identity, client_id, "app-secret")
    flow = app.initiate_auth_code_flow(scopes, redirect_uri="http://localhost/cb", login_hint=mailbox.address)
    response = sign_in(identity, flow["auth_uri"], mailbox.address, mailbox.password)
    result = app.acquire_token_by_auth_code_flow(flow, response)
    assert "access_token" in result, result
    return str(result["access_token"])


def test_msal_token_logs_into_imap(mail_stack: MailStack, identity: IdentityStandIn, mailbox: Mailbox) -> None:
    client_id = str(uuid.uuid4())
    identity.register_app(client_id, "app-secret", ["http://localhost/cb"])
    token = _signed_in_token(identity, client_id, mailbox, MAIL_SCOPES)
    client = _imaps(mail_stack)
    try:
        assert imap_xoauth2(client, mailbox.address, token)[0] == "OK"
    finally:
        client.logout()


def test_pop3_xoauth2(mail_stack: MailStack, identity: IdentityStandIn, address: str) -> None:
    mail_stack.deliver(b"Subject: for pop\r\n\r\nbody\r\n", address)
    pop = poplib.POP3_SSL(mail_stack.host, mail_stack.pop3s_port, context=mail_stack.ssl_context())
    try:
        with pytest.raises(poplib.error_proto, match="Authentication failed"):
            pop3_xoauth2(pop, address, identity.issue_access_token(address, CLIENT_ID, lifetime=-60))
        assert pop3_xoauth2(pop, address, identity.issue_access_token(address, CLIENT_ID)).startswith(b"+OK")
        assert pop.stat()[0] == 1
    finally:
        pop.quit()


def test_submission_xoauth2_two_step_delivers(mail_stack: MailStack, identity: IdentityStandIn, address: str) -> None:
    token = identity.issue_access_token(address, CLIENT_ID)
    subject = f"submitted {uuid.uuid4().hex}"
    with smtplib.SMTP(mail_stack.host, mail_stack.submission_port, timeout=10) as smtp:
        smtp.starttls(context=mail_stack.ssl_context())
        smtp.ehlo()
        assert "XOAUTH2" in smtp.esmtp_features["auth"]
        # Two-step form: the one-line AUTH with a JWT is longer than some servers accept.
        code, _ = smtp.auth("XOAUTH2", lambda challenge=None: xoauth2(address, token), initial_response_ok=False)
        assert code == 235
        smtp.send_message(_message(subject, address, address))
    mail_stack.deliver(_message("marker", address, address), address)  # the queue is FIFO enough
    assert subject in _subjects(mail_stack, address)


def test_submission_refuses_unauthenticated_and_bad_tokens(
    mail_stack: MailStack, identity: IdentityStandIn, address: str
) -> None:
    with smtplib.SMTP(mail_stack.host, mail_stack.submission_port, timeout=10) as smtp:
        smtp.starttls(context=mail_stack.ssl_context())
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail(address, ["someone@elsewhere.test"], b"Subject: x\r\n\r\nx\r\n")
        token = identity.issue_access_token("intruder@example.test", CLIENT_ID)
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.auth("XOAUTH2", lambda challenge=None: xoauth2(address, token), initial_response_ok=False)


def test_submission_password_login(mail_stack: MailStack, address: str) -> None:
    password = mail_stack.add_user(address, "smtp-password")
    with smtplib.SMTP(mail_stack.host, mail_stack.submission_port, timeout=10) as smtp:
        smtp.starttls(context=mail_stack.ssl_context())
        assert smtp.login(address, password)[0] == 235


def test_inbound_smtp_is_not_an_open_relay(mail_stack: MailStack) -> None:
    with (
        smtplib.SMTP(mail_stack.host, mail_stack.smtp_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail("a@elsewhere.test", ["b@elsewhere.test"], b"Subject: x\r\n\r\nx\r\n")


def test_deliver_bytes_and_messages(mail_stack: MailStack, address: str) -> None:
    mail_stack.deliver(b"Subject: raw bytes\r\nFrom: x@elsewhere.test\r\n\r\nbody\r\n", address)
    mail_stack.deliver(_message("an EmailMessage", address, "y@elsewhere.test"), address)
    assert _subjects(mail_stack, address) == ["raw bytes", "an EmailMessage"]
    assert len(list((mail_stack.maildir(address) / "new").iterdir())) == 2
