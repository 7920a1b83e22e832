"""HTTPS as each request was served (cookies, HSTS, redirects), the host names answered, and the
Content-Security-Policy of every page."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge import settings as product_settings
from inboxbridge.mail.tests.helpers import message, store

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")


def settings_from(env: dict[str, str], data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """inboxbridge's settings module run afresh under `env` (not the loaded settings of this run)."""
    for name in [name for name in os.environ if name.startswith("INBOXBRIDGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in {"INBOXBRIDGE_DATA_DIR": str(data_dir), "INBOXBRIDGE_ENV_FILE": os.devnull,
                        "INBOXBRIDGE_SECRET_KEY": "x" * 50, **env}.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(product_settings.__file__, run_name="inboxbridge_settings_under_test")


def cookies_of(response) -> dict[str, bool]:
    """Each cookie the response sets, and whether it is marked Secure."""
    return {name: bool(morsel["secure"]) for name, morsel in response.cookies.items()}


def test_cookies_of_an_https_request_are_secure_without_an_https_base_url(plain_user, settings):
    settings.BASE_URL = ""
    client = Client()
    assert cookies_of(client.get(LOGIN, secure=True)) == {"csrftoken": True}
    answer = client.post(LOGIN, {"username": "alice", "password": "alice-password-1"}, secure=True)
    assert answer.status_code == 302 and cookies_of(answer) == {"sessionid": True, "csrftoken": True}

    plain = Client()  # the same service over http: a browser would not send Secure cookies back
    assert cookies_of(plain.get(LOGIN)) == {"csrftoken": False}


def test_behind_a_proxy_the_forwarded_scheme_decides_cookies_and_hsts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    served_https = Client().get(LOGIN, HTTP_X_FORWARDED_PROTO="https")
    assert cookies_of(served_https) == {"csrftoken": True}
    assert served_https["Strict-Transport-Security"] == "max-age=31536000"

    served_http = Client().get(LOGIN, HTTP_X_FORWARDED_PROTO="http")
    assert cookies_of(served_http) == {"csrftoken": False}
    assert "Strict-Transport-Security" not in served_http


def test_an_https_base_url_behind_a_proxy_redirects_plain_http_but_not_the_health_check(
        tmp_path, monkeypatch, settings):
    proxied = settings_from({"INBOXBRIDGE_BASE_URL": "https://mail.example.com",
                             "INBOXBRIDGE_BEHIND_PROXY": "true"}, tmp_path, monkeypatch)
    assert proxied["SESSION_COOKIE_SECURE"] is True and proxied["CSRF_COOKIE_SECURE"] is True
    for name in ["SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_PROXY_SSL_HEADER", "ALLOWED_HOSTS"]:
        setattr(settings, name, proxied[name])
    client = Client(HTTP_HOST="mail.example.com", HTTP_X_FORWARDED_PROTO="http")
    redirected = client.get(LOGIN)
    assert redirected.status_code == 301 and redirected["Location"] == "https://mail.example.com/accounts/login/"
    assert client.get(reverse("jobs:healthz")).status_code in (200, 503)  # answered, not redirected
    # Without the proxy's word on the scheme every request looks like http: redirecting would loop.
    direct = settings_from({"INBOXBRIDGE_BASE_URL": "https://mail.example.com"}, tmp_path, monkeypatch)
    assert direct["SECURE_SSL_REDIRECT"] is False and direct["SESSION_COOKIE_SECURE"] is True


def test_without_a_base_url_only_loopback_names_are_answered(client, tmp_path, monkeypatch):
    assert client.get(LOGIN, HTTP_HOST="mail.attacker.example").status_code == 400
    assert client.get(LOGIN, HTTP_HOST="localhost:8000").status_code == 200
    assert client.get(LOGIN, HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get(LOGIN, HTTP_HOST="[::1]:8000").status_code == 200

    assert settings_from({}, tmp_path, monkeypatch)["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    based = settings_from({"INBOXBRIDGE_BASE_URL": "https://mail.example.com"}, tmp_path, monkeypatch)
    assert based["ALLOWED_HOSTS"] == ["mail.example.com", "localhost", "127.0.0.1", "[::1]"]
    named = settings_from({"INBOXBRIDGE_ALLOWED_HOSTS": "intranet.example, 10.0.0.5"}, tmp_path, monkeypatch)
    assert named["ALLOWED_HOSTS"] == ["intranet.example", "10.0.0.5"]


def page_policy(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.partition(" ")[2] for part in (p.strip() for p in policy.split(";")) if part}


def test_every_page_has_a_content_security_policy_without_inline_scripts(client, admin_user):
    client.force_login(admin_user)
    pages = [LOGIN, reverse("mail:list"), reverse("sending:compose"), reverse("sending:outbox"),
             reverse("mailboxes:email-configuration"), reverse("signin:mine"), reverse("signin:settings"),
             reverse("microsoft:settings"), reverse("configuration:system-information"),
             reverse("jobs:mailbox-list"), "/no-such-page/"]
    for url in pages:
        policy = page_policy(client.get(url))
        assert policy["default-src"] == "'self'", url
        assert policy["script-src"] == "'self'", url  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["frame-ancestors"] == "'none'", url
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'", url


def test_the_message_frame_keeps_its_own_stricter_policy(client, plain_user):
    client.force_login(plain_user)
    email = store(make_mailbox(plain_user), message("Styled", html="<p style='color:red'>Hi</p>"))
    policy = page_policy(client.get(reverse("mail:body", args=[email.pk])))
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'self'"  # framed by the message page, unlike every other page
    assert "script-src" not in policy
