"""Outbound connections to hosts a user names: never into this server's own network.

A host typed by a user (an "Other" mail server today, a webhook URL tomorrow) is resolved and every
address it resolves to is vetted: loopback, private, link-local, unique-local, shared (CGNAT) and
site-local addresses are refused unless the deployment allows private networks (an on-premises mail
server, the test suite); unspecified, multicast and reserved addresses and the cloud metadata
endpoints are refused always. ALL addresses must pass, not just the first: the connecting code may
try any of them. IPv6 forms that carry an IPv4 address (mapped, NAT64, 6to4, Teredo) are judged by
that IPv4 address.

A vetting must happen right before each connection, and the connection must go to the addresses
`vet_host` returns, not to a new lookup of the name: a DNS answer with a short lifetime could
change in between (DNS rebinding). The mail-server door does so (mailserver/network.py).

Framework-free: the caller passes the policy (`allow_private`).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services hand out cloud credentials to whoever asks from inside: never, even
# with private networks allowed. (AWS/GCP/Azure/OpenStack/DigitalOcean/Oracle, AWS IPv6, AWS ECS
# task credentials, Alibaba Cloud, Azure's WireServer.)
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200", "168.63.129.16",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


class HostRefused(Exception):
    """The host may not be connected to. `message` is safe to show to the user who typed the host:
    it never says which address the name resolved to (that would map the internal network)."""

    def __init__(self, message: str, *, unresolved: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unresolved = unresolved


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_problem(address: IPAddress, *, allow_private: bool) -> str:
    """Why a connection to `address` is refused ("" when it is not): a short phrase for logs/tests."""
    address = _embedded_ipv4(address) or address  # judged by the IPv4 address it leads to
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    # Loopback before reserved: Python counts ::1 as reserved (::/8), yet it is plain loopback.
    internal = address.is_loopback or address.is_private or address.is_link_local or (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    if address.is_reserved and not address.is_loopback:
        return "a reserved address"
    if internal or not address.is_global:
        return "" if allow_private else "a private, loopback or link-local address"
    return ""


def vet_host(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """Resolve `host` and return its addresses when every one may be connected to; else raise
    HostRefused. Call it right before connecting: it is the check at connect time."""
    try:
        normalize_host(host)
    except ValueError as wrong:
        raise HostRefused(str(wrong), unresolved=True) from None
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise HostRefused(f"{host} could not be found: check the host name.", unresolved=True) from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in answers))
    if not addresses:
        raise HostRefused(f"{host} could not be found: check the host name.", unresolved=True)
    for address in addresses:
        if address_problem(address, allow_private=allow_private):
            raise HostRefused(f"{host} is on a private or reserved network, which this server does not connect to.")
    return addresses


def normalize_host(text: str) -> str:
    """A host name (ASCII; IDNs in their xn-- form) or an IP address, lower-cased, without a
    trailing dot; ValueError for anything else (ports, paths, spaces, brackets)."""
    host = text.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.split(".")
    if not host or len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{text.strip() or 'An empty value'} is not a host name or an IP address.")
    return host


def parse_host_patterns(text: str) -> list[str]:
    """An allowlist as typed (commas, spaces or lines): host names, IP addresses and `*.domain`
    wildcards. ValueError names every entry that is none of these."""
    entries = [entry for entry in re.split(r"[\s,;]+", text) if entry]
    patterns: list[str] = []
    wrong: list[str] = []
    for entry in entries:
        wildcard = entry.startswith("*.")
        try:
            host = normalize_host(entry[2:] if wildcard else entry)
        except ValueError:
            wrong.append(entry)
            continue
        if wildcard and _is_ip(host):
            wrong.append(entry)
            continue
        pattern = f"*.{host}" if wildcard else host
        if pattern not in patterns:
            patterns.append(pattern)
    if wrong:
        raise ValueError("Not a host name, IP address or *.domain: " + ", ".join(wrong) + ".")
    return patterns


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """Whether `host` matches an allowlist from `parse_host_patterns`: `imap.example.com` only
    itself, `*.example.org` every name below example.org (not example.org itself)."""
    try:
        name = normalize_host(host)
    except ValueError:
        return False
    return any(name.endswith(pattern[1:]) if pattern.startswith("*.") else name == pattern for pattern in patterns)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
