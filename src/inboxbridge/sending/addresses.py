"""Address lists as people type them: "Bob <bob@contoso.com>, carol@contoso.com; dave@fabrikam.com"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from email.headerregistry import Address as HeaderAddress
from email.utils import formataddr, parseaddr

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Exchange Online accepts at most 500 recipients per message.
MAX_RECIPIENTS = 500
# One entry, display name and all: a header line's limit (RFC 5322). The stdlib parser recurses per
# nested comment or group, so a long "((((" would otherwise end in RecursionError, not a message.
MAX_ENTRY_CHARS = 998

Address = tuple[str, str]  # (display name, address)


def _split(raw: str) -> list[str]:
    """Split on commas and semicolons (Outlook users type either), except inside quotes and <>."""
    parts, current, quoted, angle = [], [], False, False
    escaped = False
    for ch in raw:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        elif ch in ",;" and not quoted and not angle:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _normalized(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        # Without SMTPUTF8, which not every server offers, a non-ASCII local part cannot be sent.
        raise ValueError
    # International domain names travel as punycode.
    return f"{local}@{domain.encode('idna').decode('ascii').lower()}"


def parse_addresses(raw: str) -> list[Address]:
    """The addresses of a typed list; ValidationError names each entry that is not an address."""
    found: list[Address] = []
    bad: list[str] = []
    for part in _split(raw or ""):
        if any(ch in part for ch in "\r\n\0"):
            bad.append(part.replace("\r", " ").replace("\n", " ").replace("\0", " "))
            continue
        if len(part) > MAX_ENTRY_CHARS:
            bad.append(part[:60] + "…")
            continue
        try:
            name, address = parseaddr(part)
            if not address or address.count("@") != 1:
                raise ValueError
            validate_email(address)
            pair = (name.strip(), _normalized(address))
            HeaderAddress(display_name=pair[0], addr_spec=pair[1])  # what the message is built with
            found.append(pair)
        except (ValidationError, ValueError, UnicodeError, IndexError, RecursionError):
            bad.append(part)
    if bad:
        listed = ", ".join(f"“{entry}”" for entry in bad[:5])
        raise ValidationError(f"Not an email address: {listed}." if len(bad) == 1
                              else f"These are not email addresses: {listed}.")
    if len(found) > MAX_RECIPIENTS:
        raise ValidationError(f"At most {MAX_RECIPIENTS} recipients per message.")
    return found


def format_addresses(pairs: Iterable[Sequence[str]]) -> str:
    """For headers and forms: "Bob <bob@contoso.com>, carol@contoso.com"."""
    return ", ".join(formataddr((name, address)) if name else address for name, address in pairs)


def without(pairs: Iterable[Sequence[str]], *addresses: str) -> list[Address]:
    """The pairs minus the given addresses and minus repeats (ignoring case)."""
    skip = {address.lower() for address in addresses}
    kept: list[Address] = []
    for name, address in pairs:
        if address and address.lower() not in skip:
            skip.add(address.lower())
            kept.append((name, address))
    return kept
