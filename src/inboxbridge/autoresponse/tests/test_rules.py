"""The pure decisions: RFC 3834's exclusions one by one, the conditions, the template and its
placeholders. No database and no server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inboxbridge.autoresponse import rules
from inboxbridge.autoresponse.rules import Condition, Incoming

OWN = ("support@contoso.test",)


def mail(**fields: object) -> Incoming:
    values: dict[str, object] = {
        "headers": [("From", "Carol Customer <carol@fabrikam.test>"), ("To", "support@contoso.test"),
                    ("Subject", "Printer on fire")],
        "from_name": "Carol Customer", "from_address": "carol@fabrikam.test",
        "to": [["", "support@contoso.test"]], "cc": [["Dave", "dave@fabrikam.test"]],
        "subject": "Printer on fire", "body": "Hello,\nthe printer on floor 2 is on fire.\n",
    }
    values.update(fields)
    return Incoming(**values)  # type: ignore[arg-type]


def with_header(name: str, value: str) -> Incoming:
    return mail(headers=[*mail().headers, (name, value)])


def test_a_plain_message_from_a_person_is_answered_at_its_from():
    decision = rules.decide(mail(), [], own_addresses=OWN)
    assert decision.answer and decision.recipient == ("Carol Customer", "carol@fabrikam.test")


def test_the_answer_goes_to_the_reply_to_when_there_is_one():
    decision = rules.decide(mail(reply_to=[["Tickets", "tickets@fabrikam.test"]]), [], own_addresses=OWN)
    assert decision.recipient == ("Tickets", "tickets@fabrikam.test")


@pytest.mark.parametrize("value", ["auto-replied", "auto-generated", "Auto-Notified; owner-email=x@y.test",
                                   "auto-replied (vacation)"])
def test_automatic_mail_is_never_answered(value):
    decision = rules.decide(with_header("Auto-Submitted", value), [], own_addresses=OWN)
    assert not decision.answer and "Auto-Submitted" in decision.reason


@pytest.mark.parametrize("value", ["no", "No", "no (a person wrote this)"])
def test_auto_submitted_no_is_a_person(value):
    assert rules.decide(with_header("Auto-Submitted", value), [], own_addresses=OWN).answer


@pytest.mark.parametrize("value", ["bulk", "list", "junk", " Bulk "])
def test_bulk_list_and_junk_precedence_is_never_answered(value):
    decision = rules.decide(with_header("Precedence", value), [], own_addresses=OWN)
    assert not decision.answer and "Precedence" in decision.reason


def test_first_class_precedence_is_answered():
    assert rules.decide(with_header("Precedence", "first-class"), [], own_addresses=OWN).answer


@pytest.mark.parametrize("name", ["List-Id", "List-Unsubscribe", "list-post", "List-Help", "List-Archive"])
def test_any_list_header_means_list_mail(name):
    decision = rules.decide(with_header(name, "<news.fabrikam.test>"), [], own_addresses=OWN)
    assert not decision.answer and "mailing list" in decision.reason


def test_a_bounce_with_an_empty_return_path_is_never_answered():
    decision = rules.decide(with_header("Return-Path", "<>"), [], own_addresses=OWN)
    assert not decision.answer and "bounce" in decision.reason
    assert rules.decide(with_header("Return-Path", "<carol@fabrikam.test>"), [], own_addresses=OWN).answer


@pytest.mark.parametrize("address", ["MAILER-DAEMON@fabrikam.test", "postmaster@fabrikam.test",
                                     "owner-news@fabrikam.test", "news-request@fabrikam.test",
                                     "noreply@fabrikam.test", "no-reply@fabrikam.test"])
def test_mail_systems_are_never_answered(address):
    decision = rules.decide(mail(from_address=address, from_name=""), [], own_addresses=OWN)
    assert not decision.answer and "mail system" in decision.reason


def test_a_person_whose_reply_to_is_a_mail_system_is_not_answered():
    decision = rules.decide(mail(reply_to=[["", "bounces-request@fabrikam.test"]]), [], own_addresses=OWN)
    assert not decision.answer


@pytest.mark.parametrize("address", ["", "not an address", "carol@", "@fabrikam.test", "a@b@c.test",
                                     "carol@fabrikam.test\r\nBcc: x@y.test"])
def test_mail_without_a_valid_from_is_never_answered(address):
    decision = rules.decide(mail(from_address=address), [], own_addresses=OWN)
    assert not decision.answer and "From" in decision.reason


def test_mail_from_the_mailbox_itself_is_never_answered_whatever_the_case():
    decision = rules.decide(mail(from_address="Support@Contoso.test"), [], own_addresses=OWN)
    assert not decision.answer and "mailbox itself" in decision.reason
    redirected = mail(reply_to=[["", "SUPPORT@contoso.test"]])
    assert not rules.decide(redirected, [], own_addresses=OWN).answer


def test_an_answer_inboxbridge_sent_is_never_answered_even_without_its_header():
    decision = rules.decide(mail(), [], own_addresses=OWN, is_our_answer=True)
    assert not decision.answer and "inboxbridge" in decision.reason


def test_microsofts_suppress_header_is_honoured():
    assert not rules.decide(with_header("X-Auto-Response-Suppress", "DR, AutoReply"), [], own_addresses=OWN).answer
    assert rules.decide(with_header("X-Auto-Response-Suppress", "DR"), [], own_addresses=OWN).answer


# -- conditions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("condition", "expected"), [
    (Condition("subject", "contains", "ON FIRE"), True),
    (Condition("subject", "equals", "printer on fire"), True),
    (Condition("subject", "equals", "printer"), False),
    (Condition("subject", "starts_with", "Printer"), True),
    (Condition("subject", "starts_with", "fire"), False),
    (Condition("from", "equals", "CAROL@fabrikam.test"), True),
    (Condition("from", "equals", "Carol Customer"), True),
    (Condition("from", "contains", "@fabrikam"), True),
    (Condition("from", "starts_with", "dave"), False),
    (Condition("to", "equals", "support@contoso.test"), True),
    (Condition("to", "equals", "sales@contoso.test"), False),
    (Condition("cc", "starts_with", "dave"), True),
    (Condition("cc", "contains", "contoso"), False),
    (Condition("body", "contains", "floor 2"), True),
    (Condition("body", "starts_with", "hello,"), True),
    (Condition("body", "equals", "hello"), False),
])
def test_each_field_and_operator(condition, expected):
    assert rules.condition_matches(condition, mail()) is expected
    assert rules.decide(mail(), [condition], own_addresses=OWN).answer is expected


def test_all_conditions_must_match():
    both = [Condition("subject", "contains", "printer"), Condition("from", "contains", "fabrikam")]
    assert rules.matches(both, mail())
    one_wrong = [Condition("subject", "contains", "printer"), Condition("from", "contains", "contoso")]
    assert not rules.matches(one_wrong, mail())


def test_excluded_mail_stays_excluded_even_when_the_conditions_match():
    decision = rules.decide(with_header("Precedence", "bulk"), [Condition("subject", "contains", "printer")],
                            own_addresses=OWN)
    assert not decision.answer


@given(st.text(max_size=40), st.text(max_size=40))
def test_contains_is_case_insensitive_substring(subject, needle):
    matched = rules.condition_matches(Condition("subject", "contains", needle), mail(subject=subject))
    assert matched == (needle.strip().casefold() in subject.strip().casefold())


@given(st.lists(st.tuples(st.sampled_from(["Auto-Submitted", "Precedence", "List-Id", "X-Other", "Subject"]),
                          st.text(max_size=20)), max_size=6))
def test_no_header_combination_crashes_and_automatic_mail_is_always_refused(headers):
    decision = rules.decide(mail(headers=headers), [], own_addresses=OWN)
    automatic = any(name == "Auto-Submitted" and rules._first_token(value) != "no" for name, value in headers)
    listed = any(name == "List-Id" for name, _value in headers)
    if automatic or listed:
        assert not decision.answer


# -- the template -------------------------------------------------------------------------------------


def test_the_placeholders_are_filled():
    values = {"sender_name": "Carol", "subject": "Printer on fire", "date": "Sat, 05 Dec 2026 10:00",
              "mailbox_label": "Help Desk"}
    text = "Dear {sender_name}, {mailbox_label} got “{subject}” of {date}. {{not a placeholder}}"
    assert rules.template_problems(text) == []
    assert rules.render(text, values) == ("Dear Carol, Help Desk got “Printer on fire” of Sat, 05 Dec 2026 10:00. "
                                          "{not a placeholder}")


def test_braces_in_the_values_are_inserted_as_they_are():
    assert rules.render("{subject}", {"subject": "{sender_name} {0.__class__}"}) == "{sender_name} {0.__class__}"


def test_unknown_placeholders_are_named():
    problems = rules.template_problems("Hi {name}, about {subject} and {ticket}")
    assert len(problems) == 1 and "{name}" in problems[0] and "{ticket}" in problems[0]
    assert "{sender_name}" in problems[0]  # says what may be used


@pytest.mark.parametrize("template", ["{0.__class__}", "{subject.__class__.__mro__}", "{subject[0]}",
                                      "{0}", "{}", "{sender_name.__init__.__globals__}"])
def test_attribute_index_and_positional_access_are_refused(template):
    assert rules.template_problems(template)
    with pytest.raises(ValueError):
        rules.render(template, {"subject": "x"})


@pytest.mark.parametrize("template", ["{subject!r}", "{subject:>10}", "{date:{subject}}"])
def test_conversions_and_format_specs_are_refused(template):
    problems = rules.template_problems(template)
    assert problems and "no format" in problems[0]


@pytest.mark.parametrize("template", ["Hi {", "Hi }", "{subject"])
def test_a_lone_brace_is_explained(template):
    problems = rules.template_problems(template)
    assert problems == ["A single { or } must be written twice ({{ or }}) to appear as itself."]


def test_a_header_value_has_no_line_breaks():
    assert rules.one_line("Re: one\r\nBcc: x@y.test\n two") == "Re: one Bcc: x@y.test two"
