"""The Microsoft Settings form, and the shapes of Microsoft ids other forms check too."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from inboxbridge.microsoft import certificates

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOMAIN = re.compile(r"^(?=.{4,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")
MULTI_TENANT = {"organizations", "common"}


class MicrosoftSettingsForm(forms.Form):
    client_id = forms.CharField(label="Application (client) ID", required=False, max_length=100)
    client_id_use_default = forms.BooleanField(label="Use Default", required=False)
    client_secret = forms.CharField(
        label="Client Secret", required=False, max_length=512,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    client_secret_use_default = forms.BooleanField(label="Use Default", required=False)
    tenant_id = forms.CharField(label="Directory (tenant) ID", required=False, max_length=253)
    tenant_id_use_default = forms.BooleanField(label="Use Default", required=False)

    def clean_client_id(self) -> str:
        value = self.cleaned_data["client_id"].strip().strip("{}")  # Azure tools sometimes show {GUID}
        if value and not GUID.match(value):
            raise forms.ValidationError(
                "The Application (client) ID is a GUID like 00000000-0000-0000-0000-000000000000; "
                "copy it from the app's Overview > Essentials in Azure."
            )
        return value.lower()

    def clean_tenant_id(self) -> str:
        value = self.cleaned_data["tenant_id"].strip().strip("{}")
        if value and not (GUID.match(value) or DOMAIN.match(value) or value.lower() in MULTI_TENANT):
            raise forms.ValidationError(
                "The Directory (tenant) ID is a GUID, a verified domain such as contoso.onmicrosoft.com, "
                "or organizations/common."
            )
        return value.lower() if value.lower() in MULTI_TENANT or GUID.match(value) else value

    def clean_client_secret(self) -> str:
        return self.cleaned_data["client_secret"].strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        secret = data.get("client_secret", "")
        if secret and GUID.match(secret):
            self.add_error(
                "client_secret",
                "This looks like the secret's ID (a GUID). Paste the secret's Value instead; Azure shows it "
                "only once, right after you create the secret.",
            )
        return data


def tenant_warning(tenant: str) -> str:
    if tenant.lower() in MULTI_TENANT:
        return (
            f"'{tenant}' works only for multi-tenant applications. A single-tenant app fails with "
            "AADSTS50194 here: use your Directory (tenant) ID instead."
        )
    return ""


class CertificateUploadForm(forms.Form):
    certificate_file = forms.FileField(label="Certificate file (.pem, .pfx or .p12)")
    certificate_password = forms.CharField(
        label="PKCS#12 password", required=False, max_length=256, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("certificate_file")
        if upload is None:
            return data
        if upload.size > certificates.MAX_UPLOAD_BYTES:
            self.add_error("certificate_file", "This file is too large for a certificate and its key.")
            return data
        content = upload.read()
        try:
            # A PEM file is text with BEGIN lines; anything else is read as PKCS#12 (binary).
            if b"-----BEGIN" in content:
                data["credential"] = certificates.from_pem(content)
            else:
                data["credential"] = certificates.from_pkcs12(content, data.get("certificate_password", ""))
        except certificates.CertificateError as error:
            self.add_error("certificate_file", str(error))
        return data


class CertificateGenerateForm(forms.Form):
    common_name = forms.CharField(label="Subject (CN)", max_length=64, initial="inboxbridge")
    validity_days = forms.IntegerField(
        label="Valid for (days)", min_value=1, max_value=certificates.MAX_VALIDITY_DAYS,
        initial=certificates.DEFAULT_VALIDITY_DAYS,
    )
