"""Certificates and key files the way an administrator might bring them, for the certificate tests."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def certificate(key: PrivateKey, *, days_left: float = 365, cn: str = "contoso mail app") -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=days_left))
        .sign(key, hashes.SHA256())
    )


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_file(key: PrivateKey, cert: x509.Certificate) -> bytes:
    """What `openssl req -x509 -newkey ... | cat key cert` gives: key and certificate in one file."""
    return key_pem(key) + cert_pem(cert)


def pfx_file(key: rsa.RSAPrivateKey, cert: x509.Certificate, password: str) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"contoso", key, cert, None, serialization.BestAvailableEncryption(password.encode())
    )
