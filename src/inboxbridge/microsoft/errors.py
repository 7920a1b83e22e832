"""Turn Microsoft's error answers into a message a person can act on.

The identity platform's refusals act on the `error_codes` / AADSTS number, never echo tokens, and
drop trace ids and timestamps that only clutter the page. Exchange Online's SMTP refusals that only
an administrator's change can cure are recognised here too, so no other app reads Microsoft's
wording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from inboxbridge.lib.redact import redact

RECONNECT = "Click Reconnect (or Connect) to sign in to the mailbox again."
# Refusals after which only a new sign-in helps: the refresh token expired, unused or revoked.
GRANT_REVOKED_CODES = frozenset({70008, 700082, 50173})
SECRET_EXPIRED = 7000222
CERTIFICATE_FIX = ("Upload this certificate's public part (the .cer download on the Microsoft Settings page) "
                   "under Certificates & secrets > Certificates of the app registration in Azure, or upload the "
                   "certificate Azure holds here.")
EXPLANATIONS: dict[int, tuple[str, str]] = {
    50011: ("The Redirect URI sent does not match the ones registered for the application.",
            "Copy the Redirect URI shown on the Microsoft Settings page into the app registration's "
            "Authentication > Redirect URIs in Azure."),
    500112: ("The Redirect URI sent does not match the ones registered for the application.",
             "Copy the Redirect URI shown on the Microsoft Settings page into the app registration in Azure."),
    50194: ("The application is not multi-tenant, but the common or organizations endpoint was used.",
            "Set the Directory (tenant) ID to your tenant's ID instead of common/organizations."),
    65001: ("The user or administrator has not consented to the permissions the application needs.",
            "Grant consent when Microsoft asks, or have an administrator use the admin consent link."),
    90094: ("These permissions need an administrator's consent.",
            "Ask a tenant administrator to open the admin consent link on the Microsoft Settings page."),
    700016: ("No application with this Application (client) ID exists in the directory.",
             "Check the Application (client) ID and the Directory (tenant) ID against the app's Overview."),
    7000215: ("The client secret is wrong.",
              "Paste the secret's Value (not its Secret ID) from Certificates & secrets."),
    SECRET_EXPIRED: ("The client secret has expired, so no mailbox can sign in or refresh its access any more.",
                     "Create a new client secret under Certificates & secrets in Azure and save its Value here, "
                     "or switch to a certificate (Microsoft's recommendation)."),
    700027: ("Microsoft could not verify the application's certificate: the app registration does not hold "
             "this certificate, or the signature does not match it.", CERTIFICATE_FIX),
    700024: ("The application's signed credential (client assertion) is outside its validity time.",
             "Check this server's clock; it must be within a few minutes of the correct time."),
    70008: ("The authorization has expired.", RECONNECT),
    700082: ("The refresh token expired after a long time without use.", RECONNECT),
    50173: ("The grant was revoked, for example because the password was changed.", RECONNECT),
    54005: ("The authorization code was already used.", "Start the authorization again."),
    70011: ("The requested permission (scope) is not valid.",
            "Check the API permissions of the app registration against the list on the settings page."),
    53003: ("Access was blocked by a Conditional Access policy.", "Ask your tenant administrator."),
    50076: ("Multi-factor authentication is required.", "Complete multi-factor authentication in the browser."),
    50079: ("Multi-factor authentication enrolment is required.", "Enrol in multi-factor authentication."),
    501481: ("The PKCE code verifier did not match.", "Start the authorization again."),
    50126: ("The user name or password is wrong.", "Sign in again with the right account."),
    50020: ("This account is not from the application's directory.",
            "Sign in with an account of the configured tenant, or make the app multi-tenant."),
}
# AADSTS codes have at most 7 digits today; ASCII digits only, and never so many that int() refuses.
_AADSTS = re.compile(r"AADSTS([0-9]{1,9})(?![0-9])")
_CODE = re.compile(r"[0-9]{1,9}")
_ERROR = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # OAuth error names; a redirect's query may carry anything
_MAX_DESCRIPTION = 4000  # Microsoft's are a few hundred characters; only the first line is shown


class MicrosoftError(Exception):
    """A refusal from the identity platform, or a failure to reach it."""

    def __init__(self, error: str, description: str = "", code: int | None = None) -> None:
        self.error = error
        self.code = code
        self.description = _first_line(redact(description))
        self.explanation, self.fix = EXPLANATIONS.get(code or 0, (self.description or error, ""))
        super().__init__(self.message)

    @property
    def is_grant_revoked(self) -> bool:
        """True when only a new sign-in can help (the refresh token is dead)."""
        return self.error == "invalid_grant" or self.code in GRANT_REVOKED_CODES

    @property
    def message(self) -> str:
        head = f"AADSTS{self.code}: " if self.code else f"{self.error}: "
        text = head + self.explanation
        return f"{text} {self.fix}".strip()


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:500]


def from_result(result: Mapping[str, Any]) -> MicrosoftError:
    """Build the error from an MSAL result dict or an OAuth redirect's query parameters."""
    description = str(result.get("error_description") or "")[:_MAX_DESCRIPTION]
    code = _code(result.get("error_codes"))
    if code is None and (match := _AADSTS.search(description)):
        code = int(match.group(1))
    error = str(result.get("error") or "")
    return MicrosoftError(error if _ERROR.fullmatch(error) else "error", description, code)


def _code(codes: Any) -> int | None:
    """The first code of MSAL's `error_codes` list; anything else (a redirect's query can carry any
    text under that name) counts as no code."""
    first = codes[0] if isinstance(codes, list | tuple) and codes else None
    if isinstance(first, int) and not isinstance(first, bool) and 0 < first < 10**9:
        return first
    if isinstance(first, str) and _CODE.fullmatch(first):
        return int(first)
    return None


def unreachable(what: str, exc: BaseException) -> MicrosoftError:
    return MicrosoftError(
        "unreachable",
        f"Could not reach the Microsoft identity platform ({what}): {type(exc).__name__}. "
        "Check INBOXBRIDGE_MICROSOFT_AUTHORITY_HOST, the network and INBOXBRIDGE_CA_BUNDLE.",
    )


# -- Exchange Online's SMTP answers --------------------------------------------------------------


def smtp_auth_disabled(reply: str) -> bool:
    """SMTP AUTH is switched off for the mailbox or the whole organization (5.7.139): the token was
    fine, and a fresh one cannot help."""
    return "5.7.139" in reply or "SmtpClientAuthentication" in reply


def smtp_auth_disabled_text(address: str) -> str:
    return (
        f"Microsoft 365 does not let {address} send through SMTP: SMTP AUTH is disabled for this mailbox "
        "or for the whole organization (5.7.139). An Exchange Online administrator can allow it for this "
        f"mailbox in PowerShell with: Set-CASMailbox -Identity {address} -SmtpClientAuthenticationDisabled $false "
        "(or tick \"Authenticated SMTP\" under the user's Mail > Manage email apps in the Microsoft 365 admin "
        "center). It can take up to an hour to apply; then click Retry."
    )


def send_as_denied(reply: str) -> bool:
    """Exchange refused the sender: the signed-in account may not send as the From address
    (554 5.2.252 SendAsDenied), such as a delegate without Send As on a shared mailbox."""
    return "SendAsDenied" in reply or "5.2.252" in reply


def send_as_denied_text(sender: str, signed_in_as: str) -> str:
    return (
        f"Microsoft 365 does not let {signed_in_as} send as {sender} (554 5.2.252 SendAsDenied): "
        f"{signed_in_as} has no Send As permission on {sender}. An Exchange Online administrator can grant it "
        f"in PowerShell with: Add-RecipientPermission -Identity {sender} -Trustee {signed_in_as} "
        "-AccessRights SendAs (or under the shared mailbox's Delegation > Send as in the Exchange admin "
        "center). It can take up to an hour to apply; then click Retry."
    )


def sending_limit_reached(reply: str) -> bool:
    """Exchange Online's own sending limit (30 messages a minute, 10,000 recipients a day): the
    message goes out once it allows more."""
    return "SubmissionQuotaExceeded" in reply or "5.2.0 STOREDRV.Submission" in reply
