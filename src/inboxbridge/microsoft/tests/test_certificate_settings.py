"""Microsoft Settings takes a certificate instead of a client secret: upload a PEM or PKCS#12, or
generate a key pair and download its public certificate for Azure; the key never comes back."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.configuration.actions import set_option
from inboxbridge.microsoft import actions, certificates
from inboxbridge.microsoft.config import CERTIFICATE, CERTIFICATE_KEY, load_config
from inboxbridge.microsoft.tests.certificate_helpers import (
    cert_pem,
    certificate,
    key_pem,
    pem_file,
    pfx_file,
    rsa_key,
)

pytestmark = pytest.mark.django_db
PAGE = reverse("microsoft:settings")
UPLOAD = reverse("microsoft:certificate-upload")
GENERATE = reverse("microsoft:certificate-generate")


def upload(client, content: bytes, name: str = "app.pem", password: str = ""):
    return client.post(UPLOAD, {"certificate_file": SimpleUploadedFile(name, content),
                                "certificate_password": password}, follow=True)


def assert_key_never_shown(body: str, key_text: str) -> None:
    assert "PRIVATE KEY" not in body
    assert key_text.splitlines()[1] not in body


def test_an_uploaded_pem_is_used_instead_of_the_secret_and_the_page_shows_its_thumbprints(client, admin_user):
    client.force_login(admin_user)
    key = rsa_key()
    cert = certificate(key, cn="contoso mail app")
    body = upload(client, pem_file(key, cert)).content.decode()
    info = certificates.describe(cert_pem(cert).decode())
    assert "Certificate saved" in body
    assert "CN=contoso mail app" in body
    assert info.sha1_thumbprint in body and info.sha256_thumbprint in body
    assert info.not_after.strftime("%Y-%m-%d") in body
    assert 'id="credential-in-use">Certificate' in body
    assert_key_never_shown(body, key_pem(key).decode())
    assert load_config().uses_certificate


def test_the_private_key_is_encrypted_at_rest_and_kept_out_of_the_audit_log(client, admin_user):
    client.force_login(admin_user)
    key = rsa_key()
    upload(client, pem_file(key, certificate(key)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT value, secret_value FROM configuration_storedsetting WHERE key = %s",
                       [CERTIFICATE_KEY.key])
        value, stored = cursor.fetchone()
    assert value == "" and "PRIVATE KEY" not in stored
    assert "PRIVATE KEY" in load_config().private_key_pem
    audit = str(list(AuditEvent.objects.values_list("action", "detail")))
    assert "certificate_uploaded" in audit and "PRIVATE KEY" not in audit


def test_a_pkcs12_file_with_its_password_is_accepted(client, admin_user):
    client.force_login(admin_user)
    key = rsa_key()
    cert = certificate(key)
    body = upload(client, pfx_file(key, cert, "Export-Pw-1"), "app.pfx", "Export-Pw-1").content.decode()
    assert "Certificate saved" in body
    assert load_config().certificate_pem == cert_pem(cert).decode()


def test_a_wrong_pkcs12_password_is_refused_and_nothing_changes(client, admin_user):
    client.force_login(admin_user)
    key = rsa_key()
    response = upload(client, pfx_file(key, certificate(key), "Export-Pw-1"), "app.pfx", "wrong")
    assert response.status_code == 400
    assert "The PKCS#12 password is wrong" in response.content.decode()
    assert not load_config().uses_certificate


@pytest.mark.parametrize(("content", "expected"), [
    (b"hello, this is not a certificate", "This is not a readable PKCS#12"),
    (b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "No certificate found in this file"),
])
def test_garbage_is_refused_without_echoing_it(client, admin_user, content, expected):
    client.force_login(admin_user)
    body = upload(client, content).content.decode()
    assert expected in body
    assert "not base64" not in body and "hello, this" not in body
    assert not load_config().uses_certificate


def test_a_certificate_without_its_private_key_is_refused(client, admin_user):
    client.force_login(admin_user)
    body = upload(client, cert_pem(certificate(rsa_key()))).content.decode()
    assert "No private key found in this PEM file" in body


def test_a_key_that_does_not_belong_to_the_certificate_is_refused(client, admin_user):
    client.force_login(admin_user)
    body = upload(client, key_pem(rsa_key()) + cert_pem(certificate(rsa_key()))).content.decode()
    assert "The private key does not belong to this certificate" in body
    assert not load_config().uses_certificate


def test_an_expired_certificate_is_refused_at_upload(client, admin_user):
    client.force_login(admin_user)
    key = rsa_key()
    body = upload(client, pem_file(key, certificate(key, days_left=-2))).content.decode()
    assert "This certificate expired on" in body
    assert not load_config().uses_certificate


def test_a_non_rsa_key_is_refused(client, admin_user):
    client.force_login(admin_user)
    key = ec.generate_private_key(ec.SECP256R1())
    body = upload(client, pem_file(key, certificate(key))).content.decode()
    assert "The private key is not an RSA key" in body


def test_a_short_rsa_key_is_refused(client, admin_user):
    client.force_login(admin_user)
    key = rsa_key(1024)
    body = upload(client, pem_file(key, certificate(key))).content.decode()
    assert "The RSA key has 1024 bits; use at least 2048" in body


def test_generate_makes_a_key_pair_for_the_chosen_validity_and_downloads_only_the_public_part(client, admin_user):
    client.force_login(admin_user)
    body = client.post(GENERATE, {"common_name": "inboxbridge prod", "validity_days": "90"},
                       follow=True).content.decode()
    assert "A key pair was generated" in body
    info = certificates.describe(load_config().certificate_pem)
    assert info.subject == "CN=inboxbridge prod" and 89 <= info.days_left() <= 90
    assert_key_never_shown(body, load_config().private_key_pem)
    cer = client.get(reverse("microsoft:certificate-download", args=["cer"]))
    assert cer["Content-Disposition"].endswith('.cer"')
    assert x509.load_der_x509_certificate(cer.content).subject.rfc4514_string() == "CN=inboxbridge prod"
    pem = client.get(reverse("microsoft:certificate-download", args=["pem"])).content
    assert pem.decode() == load_config().certificate_pem and b"PRIVATE KEY" not in pem
    assert client.get(reverse("microsoft:certificate-download", args=["key"])).status_code == 404


def test_the_validity_must_be_between_one_day_and_three_years(client, admin_user):
    client.force_login(admin_user)
    response = client.post(GENERATE, {"common_name": "x", "validity_days": "5000"})
    assert response.status_code == 400
    assert not load_config().uses_certificate


def test_removing_the_certificate_goes_back_to_the_secret(client, admin_user):
    client.force_login(admin_user)
    actions.save_certificate(admin_user, certificates.generate("x", 30), how="generated")
    body = client.post(reverse("microsoft:certificate-remove"), follow=True).content.decode()
    assert "the client secret is used again" in body
    assert not load_config().uses_certificate


def test_non_admins_can_neither_upload_generate_nor_download(client, plain_user, admin_user):
    actions.save_certificate(admin_user, certificates.generate("x", 30), how="generated")
    client.force_login(plain_user)
    assert client.post(GENERATE, {"common_name": "x", "validity_days": "30"}).status_code == 403
    key = rsa_key()
    assert client.post(UPLOAD, {"certificate_file": SimpleUploadedFile("a.pem", pem_file(key, certificate(key)))}
                       ).status_code == 403
    assert client.get(reverse("microsoft:certificate-download", args=["pem"])).status_code == 403
    assert client.post(reverse("microsoft:certificate-remove")).status_code == 403
    assert load_config().uses_certificate


def test_a_certificate_expiring_within_30_days_alerts_staff_on_every_page_only(client, admin_user, plain_user):
    key = rsa_key()
    cert = certificate(key, days_left=12)
    actions.save_certificate(admin_user, certificates.from_pem(pem_file(key, cert)), how="uploaded")
    client.force_login(admin_user)
    home = client.get(reverse("home"), follow=True).content.decode()
    assert 'id="microsoft-credential-alert"' in home and "certificate expires on" in home
    assert "certificate-expires-soon" in client.get(PAGE).content.decode()
    client.force_login(plain_user)
    assert "microsoft-credential-alert" not in client.get(reverse("home"), follow=True).content.decode()


def test_a_certificate_with_more_than_30_days_left_raises_no_alert(client, admin_user):
    actions.save_certificate(admin_user, certificates.generate("x", 45), how="generated")
    client.force_login(admin_user)
    assert "microsoft-credential-alert" not in client.get(PAGE).content.decode()


def test_a_certificate_that_has_expired_since_it_was_saved_alerts_staff_that_mail_stopped(client, admin_user):
    key = rsa_key()
    set_option(CERTIFICATE, cert_pem(certificate(key, days_left=-1)).decode(), admin_user)
    set_option(CERTIFICATE_KEY, key_pem(key).decode(), admin_user)
    client.force_login(admin_user)
    body = client.get(PAGE).content.decode()
    assert "certificate expired on" in body and "can no longer sign in" in body
