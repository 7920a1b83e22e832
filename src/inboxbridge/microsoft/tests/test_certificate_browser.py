"""The certificate part of Microsoft Settings in a real browser: an administrator generates a key
pair, reads its subject, thumbprints and expiry, downloads the public certificate for Azure, then
replaces it with a PKCS#12 file, first with a wrong password (told so), then with the right one."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from tests.browser import sign_in

from inboxbridge.microsoft import certificates
from inboxbridge.microsoft.config import load_config
from inboxbridge.microsoft.tests.certificate_helpers import certificate, pfx_file, rsa_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_generates_downloads_and_uploads_certificates(browser_context, live_server, admin_user, tmp_path):
    page = browser_context.new_page()
    sign_in(page, live_server, "admin", "admin-password-1")
    page.goto(f"{live_server.url}/system/configuration/integrations/microsoft/")
    assert page.inner_text("#credential-in-use") == "None"

    page.fill("#id_common_name", "contoso mail app")
    page.fill("#id_validity_days", "200")
    page.click("#certificate-generate button[type=submit]")
    page.wait_for_selector(".message.success:has-text('A key pair was generated')")
    assert page.inner_text("#credential-in-use") == "Certificate"
    generated = certificates.describe(load_config().certificate_pem)
    details = page.inner_text("#certificate-details")
    assert "CN=contoso mail app" in details
    assert generated.sha1_thumbprint in details and generated.sha256_thumbprint in details
    expected_expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(days=200)).strftime("%Y-%m-%d")
    assert expected_expiry in details
    assert "PRIVATE KEY" not in page.content()

    with page.expect_download() as download_info:
        page.click("#download-cer")
    downloaded = tmp_path / "public.cer"
    download_info.value.save_as(downloaded)
    cer = x509.load_der_x509_certificate(downloaded.read_bytes())
    assert cer.subject.rfc4514_string() == "CN=contoso mail app"
    assert b"PRIVATE KEY" not in downloaded.read_bytes()

    key = rsa_key()
    bundle = tmp_path / "contoso.pfx"
    bundle.write_bytes(pfx_file(key, certificate(key, cn="contoso from pfx"), "right-password"))
    page.set_input_files("#id_certificate_file", str(bundle))
    page.fill("#id_certificate_password", "wrong-password")
    page.click("#certificate-upload button[type=submit]")
    page.wait_for_selector("#certificate-upload .field-error:has-text('The PKCS#12 password is wrong')")
    assert "CN=contoso mail app" in page.inner_text("#certificate-details")  # the generated one stays

    page.set_input_files("#id_certificate_file", str(bundle))
    page.fill("#id_certificate_password", "right-password")
    page.click("#certificate-upload button[type=submit]")
    page.wait_for_selector(".message.success:has-text('Certificate saved')")
    assert "CN=contoso from pfx" in page.inner_text("#certificate-details")
    assert load_config().uses_certificate
