"""Pytest plugin with the hermetic test stack: CA, identity stand-in, mail servers, browser.

Load it from the root conftest with ``pytest_plugins = ["tests.stack.fixtures"]``.
Missing binaries fail the tests loudly, unless INBOXBRIDGE_TESTS_ALLOW_SKIP=1 turns that
into a skip (for machines that cannot install the Debian packages).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

import pytest
import trustme

from .identity import IdentityStandIn
from .mail import MailStack
from .netutil import find_binary

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

# Playwright's sync API runs an event loop in the test's thread; Django then refuses ORM
# calls from it (SynchronousOnlyOperation) unless this is set.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ALLOW_SKIP_ENV = "INBOXBRIDGE_TESTS_ALLOW_SKIP"
# Dovecot's Lua passdb and LuaSocket (Debian's dovecot-auth-lua, lua-socket): how Dovecot asks
# the identity stand-in about every token login.
LUA_PASSDB_FILES = ("/usr/lib/dovecot/modules/auth/libauthdb_lua.so", "/usr/share/lua/5.4/socket.lua")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps dialling Google on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _require(binaries: list[str], what: str) -> None:
    missing = []
    for name in binaries:
        try:
            find_binary(name)
        except FileNotFoundError:
            missing.append(name)
    if not missing:
        return
    missing_part(f"{what} needs {', '.join(missing)}: run scripts/install-test-stack")


def missing_part(message: str) -> NoReturn:
    """A part of the test stack is not on this machine: fail loudly, or skip where that is allowed."""
    if os.environ.get(ALLOW_SKIP_ENV) == "1":
        pytest.skip(message)
    pytest.fail(f"{message} (or set {ALLOW_SKIP_ENV}=1 to skip these tests)", pytrace=False)


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    """One CA for every TLS server of the stack, so one CA file trusts them all."""
    return trustme.CA()


@pytest.fixture(scope="session")
def identity(test_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdentityStandIn]:
    stand_in = IdentityStandIn(tmp_path_factory.mktemp("identity"), test_ca)
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture(autouse=True)
def _reset_identity(request: pytest.FixtureRequest) -> Iterator[None]:
    """Keep one test's injected faults and token lifetime from leaking into the next."""
    yield
    if "identity" in request.fixturenames:
        stand_in: IdentityStandIn = request.getfixturevalue("identity")
        stand_in.reset()


@pytest.fixture(scope="session")
def mail_stack(
    test_ca: trustme.CA, identity: IdentityStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MailStack]:
    _require(["dovecot", "postfix"], "the mail stack")
    missing = [path for path in LUA_PASSDB_FILES if not os.path.exists(path)]
    if missing:
        missing_part(f"the mail stack needs {', '.join(missing)}: run scripts/install-test-stack")
    stack = MailStack(tmp_path_factory.mktemp("mail"), test_ca, identity)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    _require(["chromium"], "the browser tests")
    from playwright.sync_api import sync_playwright

    # Debian's Chromium; Playwright's own browser downloads are not possible here.
    executable = CHROMIUM if os.path.exists(CHROMIUM) else find_binary("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_context(browser: Browser) -> Iterator[BrowserContext]:
    # ignore_https_errors: Chromium does not know the test CA.
    context = browser.new_context(ignore_https_errors=True)
    try:
        yield context
    finally:
        context.close()
