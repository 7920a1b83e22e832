"""Glue between the test stack (tests/stack) and the application: configured Microsoft settings,
users, and Office 365 mailboxes connected through the real authorization-code flow."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
import requests


@dataclass
class MicrosoftTestApp:
    client_id: str
    client_secret: str
    tenant_id: str


def sign_in_without_browser(auth_uri: str, email: str, password: str, ca_file: str) -> dict[str, str]:
    """Fill the stand-in's sign-in form with plain HTTP; returns the query sent to the Redirect URI."""
    session = requests.Session()
    session.trust_env = False
    session.verify = ca_file
    page = session.get(auth_uri, allow_redirects=False)
    if page.status_code in (301, 302, 303):
        return dict(parse_qsl(urlsplit(page.headers["Location"]).query))
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    flow = unescape(re.search(r'name="flow" value="([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
    answer = session.post(urljoin(auth_uri, action), data={"flow": flow, "username": email, "password": password},
                          allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:500]
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


@pytest.fixture
def admin_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        "admin", "admin@example.test", "admin-password-1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def plain_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", "alice@example.test", "alice-password-1")


@pytest.fixture
def microsoft_app(identity: Any, settings: Any, db: None) -> MicrosoftTestApp:
    """An app registered at the stand-in and saved in Microsoft Settings (not yet enabled)."""
    from inboxbridge.configuration.models import StoredSetting
    from inboxbridge.microsoft.config import CLIENT_ID, CLIENT_SECRET, TENANT_ID

    app = MicrosoftTestApp(str(uuid.uuid4()), f"secret-{uuid.uuid4().hex}", identity.tenant_id)
    identity.register_app(app.client_id, app.client_secret)
    settings.MICROSOFT_AUTHORITY_HOST = identity.authority_host
    settings.CA_BUNDLE = str(identity.ca_file)
    StoredSetting.objects.update_or_create(key=CLIENT_ID.key, defaults={"value": app.client_id})
    StoredSetting.objects.update_or_create(key=CLIENT_SECRET.key, defaults={"secret_value": app.client_secret})
    StoredSetting.objects.update_or_create(key=TENANT_ID.key, defaults={"value": app.tenant_id})
    return app


@pytest.fixture
def microsoft_certificate(microsoft_app: MicrosoftTestApp, identity: Any, admin_user: Any) -> Any:
    """The app proves itself with a generated certificate registered at the stand-in; its secret is
    expired there (AADSTS7000222), so only the certificate can work. Request it before
    `enabled_microsoft` or `connect_office365_mailbox`."""
    from inboxbridge.microsoft import actions, certificates

    credential = certificates.generate("inboxbridge tests", 365)
    identity.add_certificate(microsoft_app.client_id, credential.certificate_pem)
    identity.expire_secret(microsoft_app.client_id)
    actions.save_certificate(admin_user, credential, how="generated")
    return credential


@pytest.fixture
def enabled_microsoft(microsoft_app: MicrosoftTestApp, admin_user: Any) -> MicrosoftTestApp:
    from inboxbridge.microsoft import actions
    from inboxbridge.microsoft.config import load_config

    actions.enable_email_sync(admin_user, load_config().fingerprint)
    return microsoft_app


@pytest.fixture
def mail_settings(settings: Any, mail_stack: Any, identity: Any) -> Any:
    """Point the Office 365 IMAP/SMTP hosts at the local Dovecot and Postfix."""
    settings.MICROSOFT_IMAP_HOST = mail_stack.host
    settings.MICROSOFT_IMAP_PORT = mail_stack.imaps_port
    settings.MICROSOFT_SMTP_HOST = mail_stack.host
    settings.MICROSOFT_SMTP_PORT = mail_stack.submission_port
    settings.CA_BUNDLE = str(identity.ca_file)
    return mail_stack


@pytest.fixture
def connect_office365_mailbox(
    enabled_microsoft: MicrosoftTestApp, mail_settings: Any, identity: Any, django_user_model: Any
) -> Callable[..., Any]:
    """Factory: a Dovecot user plus a stand-in account, connected through the real code flow."""
    from inboxbridge.mailboxes import actions
    from inboxbridge.microsoft import client
    from inboxbridge.microsoft.config import load_config, mail_scopes

    def connect(email: str | None = None, owner: Any = None) -> Any:
        email = email or f"user-{uuid.uuid4().hex[:10]}@{mail_settings.domain}"
        password = mail_settings.add_user(email)
        identity.add_user(email, password, name=email.split("@")[0].title())
        if owner is None:
            owner = django_user_model.objects.create_user(email.split("@")[0], email, "pw-" + uuid.uuid4().hex)
        config = load_config()
        redirect_uri = "http://localhost/oauth2/microsoft/callback"
        flow = client.start_flow(config, mail_scopes(), redirect_uri, login_hint=email)
        answer = sign_in_without_browser(flow["auth_uri"], email, password, str(identity.ca_file))
        cache = client.new_cache()
        signed_in = client.finish_flow(config, flow, answer, cache)
        saved = actions.connect_office365_mailbox(owner, signed_in, client.serialize_cache(cache), config.fingerprint)
        return saved.mailbox

    return connect
