"""The application's certificate credential: read an uploaded PEM or PKCS#12, or make a key pair.

Microsoft recommends a certificate over a client secret: the app proves itself with a JWT signed
by the private key (MSAL builds it), and Azure holds only the public certificate. Every check here
says what is wrong in words an administrator can act on, never echoing the uploaded bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

MIN_KEY_BITS = 2048
DEFAULT_VALIDITY_DAYS = 365
MAX_VALIDITY_DAYS = 3 * 365  # Azure accepts longer, but a key that lives for ever is a risk
MAX_UPLOAD_BYTES = 64 * 1024  # a certificate with its key is a few kilobytes
EXPIRY_WARNING_DAYS = 30


class CertificateError(ValueError):
    """An uploaded or stored certificate that cannot be used, with the reason."""


@dataclass(frozen=True)
class CertificateCredential:
    certificate_pem: str
    private_key_pem: str  # PKCS#8, unencrypted here: the settings store encrypts it at rest

    def __repr__(self) -> str:  # keeps the key out of tracebacks and debug output
        return "CertificateCredential(private_key=***)"


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    sha1_thumbprint: str  # upper-case hex, as Azure's Certificates & secrets lists it
    sha256_thumbprint: str
    not_before: dt.datetime
    not_after: dt.datetime

    def days_left(self, now: dt.datetime | None = None) -> int:
        return (self.not_after - (now or dt.datetime.now(dt.UTC))).days

    @property
    def expired(self) -> bool:
        return self.not_after <= dt.datetime.now(dt.UTC)

    @property
    def expires_soon(self) -> bool:
        return self.days_left() < EXPIRY_WARNING_DAYS


def describe(certificate_pem: str) -> CertificateInfo:
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return CertificateInfo(
        subject=cert.subject.rfc4514_string(),
        sha1_thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),  # noqa: S303 - Azure lists certificates by it
        sha256_thumbprint=cert.fingerprint(hashes.SHA256()).hex().upper(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def from_pem(data: bytes) -> CertificateCredential:
    """A PEM file holding the certificate and its (unencrypted) private key, in either order."""
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise CertificateError(
            "No certificate found in this file. Upload a PEM file holding both the certificate "
            "(-----BEGIN CERTIFICATE-----) and its private key, or a PKCS#12 (.pfx/.p12) file."
        ) from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise CertificateError(
            "The private key in this PEM file is encrypted. Upload it without a passphrase, or as a "
            "PKCS#12 (.pfx/.p12) file with its password."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError(
            "No private key found in this PEM file. Azure keeps only the public certificate: upload the "
            "file that also holds the private key (-----BEGIN PRIVATE KEY-----)."
        ) from None
    return _checked(cert, key)


def from_pkcs12(data: bytes, password: str) -> CertificateCredential:
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except ValueError as exc:
        if "password" in str(exc).lower():
            raise CertificateError(
                "The PKCS#12 password is wrong. Type the password the file was exported with."
            ) from None
        raise CertificateError("This is not a readable PKCS#12 (.pfx/.p12) file.") from None
    except (TypeError, UnsupportedAlgorithm):
        raise CertificateError("This PKCS#12 file could not be read (an unsupported format or encryption).") from None
    if cert is None or key is None:
        raise CertificateError("This PKCS#12 file must hold both the certificate and its private key.")
    return _checked(cert, key)


def _checked(cert: x509.Certificate, key: object) -> CertificateCredential:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError(
            f"The private key is not an RSA key ({type(key).__name__.removeprefix('_')}). Microsoft Entra ID "
            "signs client assertions with RSA: use an RSA key of at least 2048 bits."
        )
    if key.key_size < MIN_KEY_BITS:
        raise CertificateError(f"The RSA key has {key.key_size} bits; use at least {MIN_KEY_BITS}.")
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers() != key.public_key().public_numbers():
        raise CertificateError(
            "The private key does not belong to this certificate. Upload the key pair exported together."
        )
    now = dt.datetime.now(dt.UTC)
    if cert.not_valid_after_utc <= now:
        raise CertificateError(
            f"This certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}. Create a new one (or click "
            "Generate a key pair) and upload its public part in Azure."
        )
    return CertificateCredential(
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii"),
    )


def generate(common_name: str, days: int = DEFAULT_VALIDITY_DAYS) -> CertificateCredential:
    """A new RSA 3072 key and a self-signed certificate valid for `days` (Azure wants no CA)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "inboxbridge")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return _checked(cert, key)


def public_der(certificate_pem: str) -> bytes:
    """The public certificate as a .cer file (DER), which Azure's upload accepts like .pem."""
    cert = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return cert.public_bytes(serialization.Encoding.DER)
