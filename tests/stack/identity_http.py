"""HTTP side of the identity stand-in: a threaded HTTPS server and its routes."""

from __future__ import annotations

import base64
import json
import secrets
import socket
import ssl
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import trustme

from .identity_pages import SPECIAL_TENANTS, discovery_document, error_page, form_post_page, page, sign_in_page
from .identity_tokens import ID_TOKEN_FAULTS, OAuthError, injected_error, redirect_mismatch
from .netutil import ServedInBackground

if TYPE_CHECKING:
    from .identity import IdentityStandIn
    from .identity_tenant import StandInUser


class IdentityServer(ServedInBackground, ThreadingHTTPServer):
    thread_name = "identity-stand-in"
    daemon_threads = True
    block_on_close = False  # a test's "slow:" answer must not hold up stop()

    def __init__(self, stand_in: IdentityStandIn, ca: trustme.CA) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_in = stand_in
        self.ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(self.ssl_context)
        self.pending: dict[str, dict[str, str]] = {}  # sign-in form id -> authorize params

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake happens here, in the connection's own thread, so that a client
        # that connects and stalls cannot block the accept loop.
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            _Handler(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        try:
            request.close()
        except OSError:
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: IdentityServer
    server_version = "stand-in-sts"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are logged (without secrets) in IdentityStandIn.requests

    @property
    def stand_in(self) -> IdentityStandIn:
        return self.server.stand_in

    # -- dispatch ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET", dict(parse_qsl(urlsplit(self.path).query)))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        self._dispatch("POST", dict(parse_qsl(body, keep_blank_values=True)))

    def _dispatch(self, method: str, params: dict[str, str]) -> None:
        parts = urlsplit(self.path).path.strip("/").split("/", 1)
        tenant, rest = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")
        routes = {
            "v2.0/.well-known/openid-configuration": ("openid-configuration", self._discovery),
            "oauth2/v2.0/authorize": ("authorize", self._authorize),
            "oauth2/v2.0/token": ("token", self._token),
            "discovery/v2.0/keys": ("keys", self._keys),
            "discovery/keys": ("keys", self._keys),
            "v2.0/adminconsent": ("adminconsent", self._adminconsent),
            "oauth2/v2.0/logout": ("logout", self._logout),
        }
        endpoint, route = routes.get(rest, ("unknown", None))
        entry: dict[str, Any] = {
            "endpoint": endpoint,
            "method": method,
            "tenant": tenant,
            "grant_type": params.get("grant_type") if endpoint == "token" else None,
            "client_id": params.get("client_id"),
            # How the app authenticated: tests check a certificate was used (never the value itself).
            "credential": "assertion" if params.get("client_assertion")
            else "secret" if params.get("client_secret") else None,
        }
        if "flow" in params and entry["client_id"] is None:
            entry["client_id"] = self.server.pending.get(params["flow"], {}).get("client_id")
        self.stand_in.log_request(entry)
        if route is None:
            self._send(404, "text/plain", b"not found")
            return
        if not self.stand_in.resolve_tenant(tenant):
            error = OAuthError(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
            self._send_error(error, html_page=endpoint in ("authorize", "adminconsent"))
            return
        route(method, tenant, params)

    # -- endpoints -----------------------------------------------------------------------

    def _issuer(self, tenant: str) -> str:
        # Like Microsoft: the multi-tenant endpoints name the issuer as a template, filled in with
        # the tid of each token; a tenant's own endpoints name its issuer.
        if tenant.lower() in SPECIAL_TENANTS:
            return self.stand_in.issuer_of("{tenantid}")
        return self.stand_in.issuer

    def _discovery(self, method: str, tenant: str, params: dict[str, str]) -> None:
        doc = discovery_document(self.stand_in.authority_host, tenant, self.stand_in.tenant_id, self._issuer(tenant))
        self._send_json(200, doc)

    def _keys(self, method: str, tenant: str, params: dict[str, str]) -> None:
        self._send_json(200, {"keys": [self.stand_in.signing_key.jwk(self._issuer(tenant))]})

    def _token(self, method: str, tenant: str, params: dict[str, str]) -> None:
        if method != "POST":
            self._send(405, "text/plain", b"POST only")
            return
        fault = self.stand_in.take_fault("token")
        id_token_fault = fault if fault in ID_TOKEN_FAULTS else None
        try:
            if fault is not None and id_token_fault is None and self._apply_fault(fault):
                raise injected_error(fault, params.get("client_id", ""), params.get("redirect_uri", ""))
            answer = self.stand_in.token(params, self._basic_auth(), id_token_fault, tenant)
        except OAuthError as error:
            self._send_error(error, html_page=False)
            return
        self._send_json(200, answer)

    def _authorize(self, method: str, tenant: str, params: dict[str, str]) -> None:
        if method == "POST" and "flow" in params:
            self._sign_in_post(tenant, params)
            return
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        fault = self.stand_in.take_fault("authorize")
        if fault is not None and not self._apply_fault(fault):
            fault = None
        try:
            app = self.stand_in.tenant.apps.app(client_id)
        except OAuthError as error:
            self._send_error(error, html_page=True)
            return
        if fault == "redirect_mismatch" or not self.stand_in.tenant.apps.redirect_allowed(app, redirect_uri):
            # Microsoft shows this on its own page: it never redirects to an unknown URI.
            self._send_error(redirect_mismatch(client_id, redirect_uri), html_page=True)
            return
        if fault == "server_error":
            self._send_error(injected_error(fault, client_id), html_page=True)
            return
        if fault is not None:
            injected = injected_error(fault, client_id, redirect_uri)
            name = injected.suberror or injected.error  # consent_required rather than invalid_grant
            self._redirect_back(params, {"error": name, "error_description": injected.description})
            return
        if params.get("response_type", "code") != "code":
            self._redirect_back(
                params,
                {
                    "error": "unsupported_response_type",
                    "error_description": "AADSTS70005: response_type 'id_token' is not enabled for the application.",
                },
            )
            return
        if params.get("prompt") == "none":
            self._redirect_back(
                params,
                {
                    "error": "login_required",
                    "error_description": "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
                },
            )
            return
        flow = secrets.token_urlsafe(24)
        self.server.pending[flow] = params
        self._send_html(200, sign_in_page(tenant, flow, params.get("login_hint", ""), ""))

    def _sign_in_post(self, tenant: str, form: dict[str, str]) -> None:
        params = self.server.pending.get(form["flow"])
        if params is None:
            self._send_html(400, error_page("AADSTS90014: The sign-in session expired. Start again."))
            return
        username = form.get("username", "")
        if self.stand_in.tenant.account_disabled(username):
            # A shared mailbox's account is disabled: Microsoft ends the sign-in on its error page.
            del self.server.pending[form["flow"]]
            disabled = OAuthError(400, "invalid_grant", 50057,
                                  "User account is disabled. The account has been disabled by an administrator.")
            self._send_error(disabled, html_page=True)
            return
        user = self.stand_in.tenant.check_password(username, form.get("password", ""))
        if user is None:
            if self.stand_in.tenant.user_exists(username):
                message = "Your account or password is incorrect. If you don't remember your password, reset it now."
            else:
                message = "This username may be incorrect. Make sure you typed it correctly."
            self._send_html(200, sign_in_page(tenant, form["flow"], username, message))
            return
        del self.server.pending[form["flow"]]
        if user.tid != self.stand_in.tenant_id and tenant.lower() not in SPECIAL_TENANTS:
            # Microsoft's answer to an account of another directory at a tenant's own endpoint.
            error = OAuthError(400, "invalid_request", 50020,
                               f"User account '{user.email}' from identity provider does not exist in tenant "
                               f"'{self.stand_in.tenant_id}' and cannot access the application.")
            self._redirect_back(params, {"error": error.error, "error_description": error.description})
            return
        self._complete_sign_in(params, user)

    def _complete_sign_in(self, params: dict[str, str], user: StandInUser) -> None:
        code = self.stand_in.tenant.create_code(params, user)
        self._redirect_back(params, {"code": code, "session_state": str(uuid.uuid4())})

    def _adminconsent(self, method: str, tenant: str, params: dict[str, str]) -> None:
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        try:
            app = self.stand_in.tenant.apps.app(client_id)
        except OAuthError as error:
            self._send_error(error, html_page=True)
            return
        if not redirect_uri or not self.stand_in.tenant.apps.redirect_allowed(app, redirect_uri):
            self._send_error(redirect_mismatch(client_id, redirect_uri), html_page=True)
            return
        # The admin consented to what the app registration requests now.
        self.stand_in.tenant.apps.grant_admin_consent(client_id)
        answer = {"admin_consent": "True", "tenant": self.stand_in.tenant_id}
        if "scope" in params:
            answer["scope"] = params["scope"]
        self._redirect_back({**params, "response_mode": "query"}, answer)

    def _logout(self, method: str, tenant: str, params: dict[str, str]) -> None:
        target = params.get("post_logout_redirect_uri")
        if target:
            self._send(302, "text/plain", b"", {"Location": target})
        else:
            self._send_html(200, page("Sign out", "<p>You signed out of your account.</p>"))

    # -- helpers -------------------------------------------------------------------------

    def _apply_fault(self, fault: str) -> bool:
        """Sleep for a "slow:" fault (then answer normally); True if fault is an error."""
        if fault.startswith("slow:"):
            time.sleep(float(fault.split(":", 1)[1]))
            return False
        return True

    def _basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None
        return user, password

    def _redirect_back(self, params: dict[str, str], answer: dict[str, str]) -> None:
        redirect_uri = params.get("redirect_uri", "")
        if "state" in params:
            answer = {**answer, "state": params["state"]}
        mode = params.get("response_mode", "query")
        if mode == "form_post":
            body = form_post_page(redirect_uri, answer)
            self._send_html(200, body)
            return
        separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
        self._send(302, "text/plain", b"", {"Location": redirect_uri + separator + urlencode(answer)})

    def _send_error(self, error: OAuthError, *, html_page: bool) -> None:
        if html_page:
            text = f"AADSTS{error.code}: {error.message}"
            self._send_html(error.status, error_page(text, error))
        else:
            self._send_json(error.status, error.body())

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
        self._send(status, "application/json; charset=utf-8", json.dumps(body).encode(), headers)

    def _send_html(self, status: int, body: str) -> None:
        self._send(status, "text/html; charset=utf-8", body.encode())

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
