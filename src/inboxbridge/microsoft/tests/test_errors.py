from __future__ import annotations

from inboxbridge.microsoft.errors import from_result, sending_limit_reached, smtp_auth_disabled, smtp_auth_disabled_text


def test_the_aadsts_code_comes_from_error_codes_with_explanation_and_fix() -> None:
    error = from_result({
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: abc\r\nCorrelation ID: x",
        "error_codes": [7000215],
    })
    assert error.code == 7000215
    assert error.message.startswith("AADSTS7000215: The client secret is wrong.")
    assert "Value" in error.message and "Trace ID" not in error.message


def test_the_code_is_read_from_a_redirects_description_when_there_is_no_list() -> None:
    error = from_result({"error": "consent_required", "error_description": "AADSTS65001: The user has not consented"})
    assert error.code == 65001
    assert "consent" in error.message


def test_a_revoked_grant_asks_the_user_to_reconnect() -> None:
    error = from_result({"error": "invalid_grant", "error_description": "AADSTS50173: grant revoked"})
    assert error.is_grant_revoked
    assert "Reconnect" in error.message


def test_an_unknown_code_keeps_microsofts_first_line_without_tokens() -> None:
    error = from_result({"error": "weird", "error_description": "AADSTS99999: odd refresh_token=abcdef123 thing"})
    assert "AADSTS99999" in error.message
    assert "abcdef123" not in error.message


def test_a_code_that_is_not_a_number_counts_as_none_and_the_description_still_speaks() -> None:
    # A redirect's query can carry anything under these names.
    error = from_result({"error": "access_denied", "error_codes": "abc",
                         "error_description": "AADSTS65001: The user has not consented"})
    assert error.code == 65001
    assert from_result({"error": "x", "error_codes": ["abc"]}).code is None
    assert from_result({"error": "x", "error_codes": [True]}).code is None


def test_an_endless_aadsts_number_is_no_code_and_is_not_shown_whole() -> None:
    error = from_result({"error": "access_denied", "error_description": "AADSTS" + "9" * 5000})
    assert error.code is None and len(error.message) < 600


def test_an_error_name_that_is_no_oauth_error_is_not_echoed() -> None:
    error = from_result({"error": "<script>" + "x" * 5000, "error_description": "AADSTSabc: odd"})
    assert error.error == "error" and error.message == "error: AADSTSabc: odd"


def test_exchange_refusing_smtp_auth_is_told_apart_from_a_bad_token() -> None:
    disabled = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    assert smtp_auth_disabled(disabled)
    assert not smtp_auth_disabled("535 5.7.3 Authentication unsuccessful")
    assert "Set-CASMailbox -Identity ann@example.test -SmtpClientAuthenticationDisabled $false" in \
        smtp_auth_disabled_text("ann@example.test")
    assert sending_limit_reached("554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException")
    assert not sending_limit_reached("550 5.1.1 User unknown")


def test_credential_refusals_say_what_to_do() -> None:
    expired = from_result({"error": "invalid_client", "error_codes": [7000222]})
    assert "secret has expired" in expired.message and "certificate" in expired.message
    unknown_key = from_result({"error": "invalid_client", "error_codes": [700027]})
    assert "Certificates & secrets > Certificates" in unknown_key.message
    stale = from_result({"error": "invalid_client", "error_codes": [700024]})
    assert "clock" in stale.message
