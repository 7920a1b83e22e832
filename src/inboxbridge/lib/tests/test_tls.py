"""The outbound TLS context: trusts the operator's CA file, built once, rebuilt when the file changes."""

from __future__ import annotations

import os
import socket
import ssl
import threading

import pytest
import trustme
from django.test import override_settings

from inboxbridge.lib.tls import client_ssl_context


def _serve_once(ca: trustme.CA) -> int:
    """A TLS server on loopback for one handshake, with a certificate for 'localhost' from `ca`."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    listener = socket.create_server(("127.0.0.1", 0))

    def accept() -> None:
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refused us: what the refusing test wants
        finally:
            listener.close()

    threading.Thread(target=accept, daemon=True).start()
    return int(listener.getsockname()[1])


def _handshake(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            client_ssl_context().wrap_socket(raw, server_hostname="localhost"):
        pass


def test_context_is_shared_until_the_ca_file_changes(tmp_path):
    first_ca, second_ca = trustme.CA(), trustme.CA()
    bundle = tmp_path / "ca.pem"
    first_ca.cert_pem.write_to_path(str(bundle))
    with override_settings(CA_BUNDLE=str(bundle)):
        context = client_ssl_context()
        assert client_ssl_context() is context
        _handshake(_serve_once(first_ca))
        with pytest.raises(ssl.SSLCertVerificationError):
            _handshake(_serve_once(second_ca))

        # The operator replaces the CA file: the next connection trusts the new one.
        second_ca.cert_pem.write_to_path(str(bundle))
        stat = bundle.stat()
        os.utime(bundle, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert client_ssl_context() is not context
        _handshake(_serve_once(second_ca))


def test_without_a_ca_file_the_operators_ca_is_not_trusted(tmp_path):
    ca = trustme.CA()
    with override_settings(CA_BUNDLE=""), pytest.raises(ssl.SSLCertVerificationError):
        _handshake(_serve_once(ca))
