"""The network guard: which addresses a user-named host may lead to, and the allowlist's patterns."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from inboxbridge.lib import netguard

INTERNAL = ["127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.1.1", "fe80::1",
            "fd12:3456::1", "100.64.0.1", "fec0::1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2002:c0a8:101::1"]
NEVER = ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2", "168.63.129.16",
         "::ffff:169.254.169.254", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "240.0.0.1", "255.255.255.255"]
PUBLIC = ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_refused_unless_private_networks_are_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert netguard.address_problem(ip, allow_private=False) == "a private, loopback or link-local address"
    assert netguard.address_problem(ip, allow_private=True) == ""


@pytest.mark.parametrize("address", NEVER)
def test_metadata_multicast_reserved_and_unspecified_addresses_are_refused_always(address: str) -> None:
    assert netguard.address_problem(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert netguard.address_problem(ipaddress.ip_address(address), allow_private=False) == ""


def fake_dns(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, "93.184.215.14", "10.0.0.5")
    with pytest.raises(netguard.HostRefused) as refused:
        netguard.vet_host("mail.example.com", 993, allow_private=False)
    assert refused.value.message == ("mail.example.com is on a private or reserved network, which this server does "
                                     "not connect to.")
    assert "10.0.0.5" not in refused.value.message  # the internal address is not revealed
    fake_dns(monkeypatch, "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert len(netguard.vet_host("mail.example.com", 993, allow_private=False)) == 2


def test_localhost_by_name_is_refused_and_allowed_only_with_private_networks() -> None:
    with pytest.raises(netguard.HostRefused):
        netguard.vet_host("localhost", 143, allow_private=False)
    assert ipaddress.ip_address("127.0.0.1") in netguard.vet_host("localhost", 143, allow_private=True)


def test_unknown_or_malformed_hosts_are_refused_as_not_found() -> None:
    for host in ("no-such-host.invalid", "bad host", "mail.example.com/x", ""):
        with pytest.raises(netguard.HostRefused) as refused:
            netguard.vet_host(host, 993, allow_private=True)
        assert refused.value.unresolved


def test_host_names_are_normalized_and_anything_else_is_rejected() -> None:
    assert netguard.normalize_host(" IMAP.Example.COM. ") == "imap.example.com"
    assert netguard.normalize_host("2001:DB8::1") == "2001:db8::1"
    for wrong in ("imap.example.com:993", "[::1]", "http://x", "a b", "-bad.example.com", "x" * 64 + ".com", ""):
        with pytest.raises(ValueError):
            netguard.normalize_host(wrong)


def test_an_allowlist_takes_names_addresses_and_wildcards_and_names_every_wrong_entry() -> None:
    assert netguard.parse_host_patterns("imap.example.com, *.Example.org\n192.0.2.7; imap.example.com") == [
        "imap.example.com", "*.example.org", "192.0.2.7"]
    assert netguard.parse_host_patterns("  ") == []
    with pytest.raises(ValueError, match=r"Not a host name, IP address or \*\.domain: http://x/, \*\.10\.0\.0\.1\."):
        netguard.parse_host_patterns("ok.example.com, http://x/, *.10.0.0.1")


def test_a_wildcard_matches_names_below_its_domain_only() -> None:
    patterns = ["imap.example.com", "*.example.org"]
    for host in ("imap.example.com", "IMAP.example.com.", "mail.example.org", "a.b.example.org"):
        assert netguard.host_allowed(host, patterns), host
    for host in ("smtp.example.com", "example.org", "evilexample.org", "example.org.evil.test", "bad host"):
        assert not netguard.host_allowed(host, patterns), host
