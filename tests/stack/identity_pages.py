"""What the stand-in serves besides tokens: the discovery document and its HTML pages."""

from __future__ import annotations

import html
from typing import Any

from .identity_tokens import OAuthError

SPECIAL_TENANTS = ("common", "organizations", "consumers")
CLAIMS_SUPPORTED = (
    "sub iss cloud_instance_name cloud_instance_host_name cloud_graph_host_name msgraph_host aud exp iat "
    "auth_time acr nonce preferred_username name tid ver at_hash c_hash email"
)


def discovery_document(host: str, tenant: str, tenant_id: str, issuer: str) -> dict[str, Any]:
    # Microsoft keeps common/organizations in the endpoints and maps domains to the GUID.
    path_tenant = tenant if tenant.lower() in SPECIAL_TENANTS else tenant_id
    base = f"{host}/{path_tenant}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{host}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": CLAIMS_SUPPORTED.split(),
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def form_post_page(redirect_uri: str, answer: dict[str, str]) -> str:
    """response_mode=form_post: a page that POSTs the answer to the redirect URI by itself."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in answer.items()
    )
    return (
        "<!DOCTYPE html><html><head><title>Working...</title></head>"
        '<body onload="document.forms[0].submit()">'
        f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
        f"{fields}<noscript><p>Script is disabled. Click Submit to continue.</p>"
        '<input type="submit" value="Submit"></noscript></form></body></html>'
    )


def page(title: str, content: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>{content}</body></html>"
    )


def sign_in_page(tenant: str, flow: str, username: str, error: str) -> str:
    error_html = f'<div id="usernameError" role="alert">{html.escape(error)}</div>' if error else ""
    action = f"/{html.escape(tenant)}/oauth2/v2.0/authorize"
    form = (
        "<h1>Sign in</h1>"
        f"{error_html}"
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="flow" value="{html.escape(flow)}">'
        '<label>Email, phone, or Skype <input name="username" type="text" '
        f'value="{html.escape(username)}" autocomplete="username"></label>'
        '<label>Password <input name="password" type="password" '
        'autocomplete="current-password"></label>'
        '<button type="submit" id="idSIButton9">Sign in</button>'
        "</form>"
    )
    return page("Sign in to your account", form)


def error_page(text: str, error: OAuthError | None = None) -> str:
    details = ""
    if error is not None:
        details = (
            f"<p>Request Id: {error.trace_id}</p><p>Correlation Id: {error.correlation_id}</p>"
            f"<p>Timestamp: {error.timestamp}</p>"
        )
    content = (
        "<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>"
        f'<div id="errorMessage">{html.escape(text)}</div>{details}'
    )
    return page("Sign in to your account", content)
