"""Exchange's access rules on the real Dovecot and Postfix: Full Access, Send As, app-only
tokens and their service principals, shared mailboxes that cannot sign in."""

from __future__ import annotations

import email.message
import email.utils
import imaplib
import poplib
import smtplib
import uuid
from dataclasses import dataclass

import jwt
import pytest

from tests.stack.helpers import SignInError, http_session, imap_xoauth2, msal_app, pop3_xoauth2, sign_in, xoauth2
from tests.stack.identity import IdentityStandIn
from tests.stack.mail import MailStack

pytestmark = pytest.mark.mailserver
CLIENT_ID = "0a4c6e8f-1b3d-4f5a-9c7e-2d4f6a8b0c1e"
REDIRECT_URI = "http://localhost/cb"
APP_SECRET = "app-secret"


@dataclass
class Tenancy:
    """A delegate (a user who signs in), a shared mailbox and the app of one test."""

    delegate: str
    shared: str
    app: str


@pytest.fixture
def tenancy(mail_stack: MailStack, identity: IdentityStandIn) -> Tenancy:
    tag = uuid.uuid4().hex[:10]
    delegate, shared = f"dana-{tag}@example.test", f"support-{tag}@example.test"
    identity.add_user(delegate, mail_stack.add_user(delegate))
    mail_stack.add_shared_mailbox(shared)
    app = str(uuid.uuid4())
    identity.register_app(app, APP_SECRET, [REDIRECT_URI])
    return Tenancy(delegate, shared, app)


def _imap_login(mail_stack: MailStack, user: str, token: str) -> bool:
    client = imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=mail_stack.ssl_context())
    try:
        imap_xoauth2(client, user, token)
    except imaplib.IMAP4.error as exc:
        assert "AUTHENTICATIONFAILED" in str(exc)  # all Exchange tells a client
        client.shutdown()
        return False
    client.logout()
    return True


def _imap_oauthbearer_login(mail_stack: MailStack, user: str, token: str) -> bool:
    """RFC 7628 OAUTHBEARER, which Exchange also takes; on failure the client answers ^A."""
    client = imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=mail_stack.ssl_context())
    answers = iter([f"n,a={user},\x01auth=Bearer {token}\x01\x01".encode(), b"\x01"])
    try:
        client.authenticate("OAUTHBEARER", lambda _challenge: next(answers, b""))
    except imaplib.IMAP4.error:
        client.shutdown()
        return False
    client.logout()
    return True


def _inbox_subjects(mail_stack: MailStack, user: str, token: str) -> list[str]:
    client = imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=mail_stack.ssl_context())
    try:
        imap_xoauth2(client, user, token)
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        return [item[1].decode().strip().removeprefix("Subject: ") for item in data if isinstance(item, tuple)]
    finally:
        client.logout()


def _pop3_login(mail_stack: MailStack, user: str, token: str) -> bool:
    pop = poplib.POP3_SSL(mail_stack.host, mail_stack.pop3s_port, context=mail_stack.ssl_context())
    try:
        return pop3_xoauth2(pop, user, token).startswith(b"+OK")
    except poplib.error_proto:
        return False
    finally:
        pop.quit()


def _submission(mail_stack: MailStack, user: str, token: str) -> smtplib.SMTP:
    """A submission session authenticated with XOAUTH2 (raises SMTPAuthenticationError if refused)."""
    smtp = smtplib.SMTP(mail_stack.host, mail_stack.submission_port, timeout=10)
    try:
        smtp.starttls(context=mail_stack.ssl_context())
        smtp.auth("XOAUTH2", lambda challenge=None: xoauth2(user, token), initial_response_ok=False)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _message(sender: str, to: str) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, f"sent as {uuid.uuid4().hex}"
    message["Message-ID"] = email.utils.make_msgid(domain="example.test")
    message.set_content("From the shared address.\n")
    return message


def _app_token(identity: IdentityStandIn, client_id: str) -> str:
    answer = http_session(identity).post(
        f"{identity.authority}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": APP_SECRET,
              "scope": "https://outlook.office365.com/.default"},
    ).json()
    return str(answer["access_token"])


def _last(identity: IdentityStandIn) -> tuple[str, str, bool, str]:
    service, user, allowed, reason = identity.exchange_decisions()[-1]
    return service, user, allowed, reason


def test_a_users_token_opens_their_own_mailbox(mail_stack: MailStack, identity: IdentityStandIn,
                                                tenancy: Tenancy) -> None:
    token = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    assert _imap_login(mail_stack, tenancy.delegate, token)
    assert _last(identity) == ("imap", tenancy.delegate, True, f"{tenancy.delegate} opens their own mailbox")
    assert _pop3_login(mail_stack, tenancy.delegate, token)
    assert identity.exchange_decisions()[-1].service == "pop3"


def test_a_delegate_opens_a_shared_mailbox_only_while_full_access_is_granted(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    mail_stack.deliver(b"Subject: for the team\r\n\r\nhello\r\n", tenancy.shared)
    token = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    assert not _imap_login(mail_stack, tenancy.shared, token)
    assert _last(identity) == ("imap", tenancy.shared, False,
                               f"{tenancy.delegate} holds no Full Access on {tenancy.shared}")

    assert not _imap_oauthbearer_login(mail_stack, tenancy.shared, token)

    identity.grant_full_access(tenancy.shared, tenancy.delegate)
    assert _inbox_subjects(mail_stack, tenancy.shared, token) == ["for the team"]
    assert _imap_oauthbearer_login(mail_stack, tenancy.shared, token)
    assert _pop3_login(mail_stack, tenancy.shared, token)

    identity.revoke_full_access(tenancy.shared, tenancy.delegate)
    assert not _imap_login(mail_stack, tenancy.shared, token)
    assert not _imap_oauthbearer_login(mail_stack, tenancy.shared, token)
    assert not _pop3_login(mail_stack, tenancy.shared, token)


def test_a_delegates_token_cannot_authenticate_smtp_as_the_shared_mailbox(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    identity.grant_full_access(tenancy.shared, tenancy.delegate)
    identity.grant_send_as(tenancy.shared, tenancy.delegate)
    token = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        _submission(mail_stack, tenancy.shared, token)
    service, user, allowed, reason = _last(identity)
    assert (service, user, allowed) == ("smtp", tenancy.shared, False)
    assert "user= must be the token's owner" in reason


def test_a_delegate_sends_as_the_shared_address_only_with_send_as(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    token = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    refused = _message(tenancy.shared, tenancy.delegate)
    with _submission(mail_stack, tenancy.delegate, token) as smtp, pytest.raises(smtplib.SMTPDataError) as exc:
        smtp.send_message(refused)
    assert exc.value.smtp_code == 554
    error = exc.value.smtp_error
    reply = error.decode() if isinstance(error, bytes) else error
    # Postfix puts its context ("<END-OF-MESSAGE>: End-of-data rejected:") after the status code.
    assert reply.startswith("5.2.252 ")
    assert reply.endswith(
        f"SendAsDenied; {tenancy.delegate} not allowed to send as {tenancy.shared}; "
        "STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied"
    )
    assert _last(identity)[:3] == ("send-as", tenancy.shared, False)

    identity.grant_send_as(tenancy.shared, tenancy.delegate)
    allowed = _message(tenancy.shared, tenancy.delegate)
    with _submission(mail_stack, tenancy.delegate, token) as smtp:
        smtp.send_message(allowed)
    mail_stack.deliver(b"Subject: marker\r\n\r\nx\r\n", tenancy.delegate)  # Postfix's queue is FIFO enough
    subjects = _inbox_subjects(mail_stack, tenancy.delegate, token)
    assert allowed["Subject"] in subjects and refused["Subject"] not in subjects


def test_the_delegate_still_sends_as_themselves_and_to_unknown_addresses(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    token = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    with _submission(mail_stack, tenancy.delegate, token) as smtp:
        smtp.send_message(_message(tenancy.delegate, "someone@elsewhere.test"))
        # An address this directory does not know: the test stack keeps its old, lenient rule.
        smtp.send_message(_message("alias@elsewhere.test", "someone@elsewhere.test"))


def test_an_app_only_token_without_admin_consent_has_no_roles_and_is_refused(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    identity.set_application_permissions(tenancy.app, ["IMAP.AccessAsApp"])
    service_id = identity.enterprise_app_object_id(tenancy.app)
    identity.register_service_principal(tenancy.app, service_id)
    identity.grant_full_access(tenancy.shared, service_id)
    token = _app_token(identity, tenancy.app)
    assert "roles" not in jwt.decode(token, options={"verify_signature": False})
    assert not _imap_login(mail_stack, tenancy.shared, token)
    assert "carries no roles" in _last(identity)[3]


def test_an_app_only_token_opens_only_what_its_service_principal_was_granted(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    identity.set_application_permissions(tenancy.app, ["IMAP.AccessAsApp", "POP.AccessAsApp"])
    consent = http_session(identity).get(
        f"{identity.authority}/v2.0/adminconsent",
        params={"client_id": tenancy.app, "redirect_uri": REDIRECT_URI, "scope": "https://ps.outlook.com/.default"},
        allow_redirects=False,
    )
    assert consent.status_code == 302 and "admin_consent=True" in consent.headers["Location"]
    token = _app_token(identity, tenancy.app)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["roles"] == ["IMAP.AccessAsApp", "POP.AccessAsApp"]
    assert claims["oid"] == identity.enterprise_app_object_id(tenancy.app) != identity.app_object_id(tenancy.app)

    # The common mistake: New-ServicePrincipal with the app registration's object id.
    wrong = identity.app_object_id(tenancy.app)
    identity.register_service_principal(tenancy.app, wrong)
    identity.grant_full_access(tenancy.shared, wrong)
    assert not _imap_login(mail_stack, tenancy.shared, token)
    assert "the enterprise application's object id" in _last(identity)[3]

    right = identity.enterprise_app_object_id(tenancy.app)
    identity.register_service_principal(tenancy.app, right)
    identity.grant_full_access(tenancy.shared, right)
    mail_stack.deliver(b"Subject: for the app\r\n\r\nhello\r\n", tenancy.shared)
    assert _inbox_subjects(mail_stack, tenancy.shared, token) == ["for the app"]
    assert _pop3_login(mail_stack, tenancy.shared, token)
    assert not _imap_login(mail_stack, tenancy.delegate, token)  # a mailbox it was not granted
    assert _last(identity) == ("imap", tenancy.delegate, False,
                               f"service principal {right} holds no Full Access on {tenancy.delegate}")


def test_an_app_only_token_sends_over_smtp_only_with_send_as(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    identity.set_application_permissions(tenancy.app, ["IMAP.AccessAsApp", "SMTP.SendAsApp"])
    identity.grant_admin_consent(tenancy.app)
    service_id = identity.enterprise_app_object_id(tenancy.app)
    identity.register_service_principal(tenancy.app, service_id)
    identity.grant_full_access(tenancy.shared, service_id)
    token = _app_token(identity, tenancy.app)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        _submission(mail_stack, tenancy.shared, token)
    assert _last(identity) == ("smtp", tenancy.shared, False,
                               f"service principal {service_id} holds no Send As on {tenancy.shared}")

    identity.grant_send_as(tenancy.shared, service_id)
    message = _message(tenancy.shared, tenancy.delegate)
    with _submission(mail_stack, tenancy.shared, token) as smtp:
        smtp.send_message(message)
    mail_stack.deliver(b"Subject: marker\r\n\r\nx\r\n", tenancy.delegate)
    own = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    assert message["Subject"] in _inbox_subjects(mail_stack, tenancy.delegate, own)


def test_nobody_signs_in_as_a_shared_mailbox(mail_stack: MailStack, identity: IdentityStandIn,
                                             tenancy: Tenancy) -> None:
    app = msal_app(identity, tenancy.app, APP_SECRET)
    flow = app.initiate_auth_code_flow(["https://outlook.office.com/IMAP.AccessAsUser.All"],
                                       redirect_uri=REDIRECT_URI, login_hint=tenancy.shared)
    with pytest.raises(SignInError, match="AADSTS50057: User account is disabled"):
        sign_in(identity, flow["auth_uri"], tenancy.shared, "any password")
    with pytest.raises(ValueError, match="is a shared mailbox"):
        identity.issue_access_token(tenancy.shared, CLIENT_ID)
    client = imaplib.IMAP4_SSL(mail_stack.host, mail_stack.imaps_port, ssl_context=mail_stack.ssl_context())
    try:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login(tenancy.shared, "")
    finally:
        client.shutdown()
    # The tests' own look into it still works, and it is the shared mailbox's mail.
    mail_stack.deliver(b"Subject: to the team\r\n\r\nhello\r\n", tenancy.shared)
    inspector = mail_stack.imap(tenancy.shared)
    try:
        assert inspector.select("INBOX", readonly=True) == ("OK", [b"1"])
    finally:
        inspector.logout()


def test_reset_forgets_grants_service_principals_consent_and_decisions(
    mail_stack: MailStack, identity: IdentityStandIn, tenancy: Tenancy
) -> None:
    identity.set_application_permissions(tenancy.app, ["IMAP.AccessAsApp"])
    identity.grant_admin_consent(tenancy.app)
    service_id = identity.enterprise_app_object_id(tenancy.app)
    identity.register_service_principal(tenancy.app, service_id)
    identity.grant_full_access(tenancy.shared, service_id)
    identity.grant_full_access(tenancy.shared, tenancy.delegate)
    assert _imap_login(mail_stack, tenancy.shared, _app_token(identity, tenancy.app))

    identity.reset()
    assert identity.exchange_decisions() == []
    assert "roles" not in jwt.decode(_app_token(identity, tenancy.app), options={"verify_signature": False})
    delegate_token = identity.issue_access_token(tenancy.delegate, CLIENT_ID)
    assert not _imap_login(mail_stack, tenancy.shared, delegate_token)
    identity.set_application_permissions(tenancy.app, ["IMAP.AccessAsApp"])
    identity.grant_admin_consent(tenancy.app)
    assert not _imap_login(mail_stack, tenancy.shared, _app_token(identity, tenancy.app))
    assert "no service principal registered" in _last(identity)[3]
