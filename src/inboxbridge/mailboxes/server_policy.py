"""Which mail servers an "Other" account may use: the administrator's setting, then the network guard.

Users type these hosts, so a check, a sync or a send for an Other account must never become a way
into this server's own network (SSRF). Every connection for an Other account is vetted here first:
the check before saving, and the password provider (credentials/password.py) again right before
each sync and send (the host's DNS answer may have changed since it was saved); the connection then
goes to the addresses vetted, never to a new lookup of the name. Office 365 hosts
come from the deployment and are not vetted.
"""

from __future__ import annotations

from django.conf import settings

from inboxbridge.configuration import store
from inboxbridge.lib import netguard
from inboxbridge.mailboxes.errors import MailboxUnavailable
from inboxbridge.mailboxes.options import OTHER_ACCOUNTS_ALLOWED_HOSTS, OTHER_ACCOUNTS_ENABLED
from inboxbridge.mailboxes.queries import other_account_servers

SETTINGS_PAGE = "System > Configuration > Other Mail Servers"
DISABLED_MESSAGE = (f"Other mail accounts are turned off on this server. An administrator can allow them in "
                    f"{SETTINGS_PAGE}.")


class ServerRefused(MailboxUnavailable):
    """This server may not connect to the Other account's mail server; the text says why."""


def other_accounts_enabled() -> bool:
    return store.get_flag(OTHER_ACCOUNTS_ENABLED)


def allowed_patterns() -> list[str]:
    """The administrator's allowlist; empty: every host with a public address."""
    try:
        return netguard.parse_host_patterns(store.get(OTHER_ACCOUNTS_ALLOWED_HOSTS))
    except ValueError:
        # Only a malformed environment default gets here (the settings page validates it, and the
        # system check inboxbridge.E004 names it at start): fail closed, no host matches.
        return ["*.invalid"]


def name_refusal(host: str, *, enabled: bool | None = None, patterns: list[str] | None = None) -> str:
    """Why `host` may not be used, judged by its name alone ("" when it may): no DNS lookup."""
    if not (other_accounts_enabled() if enabled is None else enabled):
        return DISABLED_MESSAGE
    patterns = allowed_patterns() if patterns is None else patterns
    if patterns and not netguard.host_allowed(host, patterns):
        return (f"{host} is not one of the mail servers this server may connect to. An administrator can add it "
                f"in {SETTINGS_PAGE}.")
    return ""


def vet_server(host: str, port: int) -> tuple[str, ...]:
    """The addresses an Other account may connect to for host:port now (connect to these, not to a
    new lookup of the name: mailserver/network.py); raise ServerRefused when it may not."""
    problem = name_refusal(host)
    if problem:
        raise ServerRefused(problem)
    try:
        addresses = netguard.vet_host(host, port, allow_private=settings.ALLOW_PRIVATE_MAIL_HOSTS)
    except netguard.HostRefused as refused:
        hint = "" if refused.unresolved else (" An administrator of an on-premises server can allow private "
                                              "networks with INBOXBRIDGE_ALLOW_PRIVATE_MAIL_HOSTS.")
        raise ServerRefused(refused.message + hint) from None
    return tuple(str(address) for address in addresses)


def refused_account_count() -> int:
    """How many connected Other accounts the current settings stop (name rules only: no DNS)."""
    enabled, patterns = other_accounts_enabled(), allowed_patterns()
    return sum(1 for hosts in other_account_servers()
               if any(name_refusal(host, enabled=enabled, patterns=patterns) for host in hosts))
