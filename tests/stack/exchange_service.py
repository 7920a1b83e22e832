"""Where the test stack's mail servers ask the identity stand-in Exchange Online's questions.

One small threaded TCP server on 127.0.0.1 speaking Postfix's policy delegation protocol
(``name=value`` lines ended by an empty line, answered by ``action=...`` and an empty line),
for two kinds of request:

- ``request=smtpd_access_policy`` from Postfix's submission service at the end of each message
  (Exchange checks Send As when it submits the message, after DATA): may the SASL login send as
  the envelope sender? A refusal carries Exchange's reply, ``554 5.2.252 SendAsDenied; ...``
  (Postfix adds its context after the status code: ``<END-OF-MESSAGE>: End-of-data rejected:``).
- ``request=exchange_login`` from Dovecot's Lua passdb (exchange_passdb.lua) for every
  XOAUTH2/OAUTHBEARER login, with service, user and token: ``action=OK`` or ``action=REFUSED``.

The stand-in decides both (identity_exchange.py) and keeps the reasons; the servers only learn
yes or no, so mail clients see their generic failures, as with Exchange.
"""

from __future__ import annotations

import socketserver
from collections.abc import Callable

from .identity_exchange import ExchangeDecision, send_as_denied_reply
from .netutil import ServedInBackground

SendAsDecider = Callable[[str, str], ExchangeDecision]  # (login, sender)
LoginDecider = Callable[[str, str, str], ExchangeDecision]  # (service, user, token)
MAX_LINE = 65536  # a JWT is about 1,700 bytes; anything far longer is not a request


class ExchangeService(ServedInBackground, socketserver.ThreadingTCPServer):
    thread_name = "exchange-service"
    daemon_threads = True
    block_on_close = False

    def __init__(self, login: LoginDecider, send_as: SendAsDecider) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.login = login
        self.send_as = send_as

    def answer(self, request: dict[str, str]) -> str:
        """The action for one request."""
        if request.get("request") == "exchange_login":
            decision = self.login(request.get("service", ""), request.get("user", ""), request.get("token", ""))
            return "OK" if decision.allowed else "REFUSED"
        login = request.get("sasl_username", "")
        if not login:
            return "DUNNO"  # not a submission login; the relay restrictions handle it
        sender = request.get("sender", "")
        if self.send_as(login, sender).allowed:
            return "DUNNO"  # Postfix goes on with its other restrictions
        return send_as_denied_reply(login, sender)


class _Handler(socketserver.StreamRequestHandler):
    server: ExchangeService

    def handle(self) -> None:
        # Postfix keeps the connection open for further requests.
        while True:
            request = self._read_request()
            if request is None:
                return
            self.wfile.write(f"action={self.server.answer(request)}\n\n".encode())
            self.wfile.flush()

    def _read_request(self) -> dict[str, str] | None:
        request: dict[str, str] = {}
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line or not line.endswith(b"\n"):
                return None
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                return request
            name, _, value = text.partition("=")
            request[name] = value
