"""The pure decisions of autoresponse: may this email be answered at all (RFC 3834), does it match
a rule's conditions, and the answer's text from the rule's template. No database, no clock, no
server: everything comes in as arguments, so every rule is tested on its own.

RFC 3834 section 2 and 3.1 are the reference: an automatic answer never goes to mail that is itself
automatic (Auto-Submitted other than "no"), bulk or list mail, a bounce (null Return-Path) or a
mail system's own address, and it goes to the Reply-To, else the From, of the original.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

Pair = tuple[str, str]  # (display name, address), as mail.Email keeps addresses

FIELDS = ("from", "to", "cc", "subject", "body")
OPERATORS = ("contains", "equals", "starts_with")
PLACEHOLDERS = ("sender_name", "subject", "date", "mailbox_label")

# Local parts of mail systems, not people: their mail is a bounce, a list's or a robot's, and an
# answer would at best be dropped, at worst start a loop (RFC 3834 section 2).
SYSTEM_LOCAL_PARTS = frozenset({
    "mailer-daemon", "postmaster", "listserv", "majordomo", "noreply", "no-reply", "donotreply", "do-not-reply",
})
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
# Microsoft's own way of asking for no automatic answer (Exchange sets it on its notices).
SUPPRESS_VALUES = frozenset({"all", "autoreply", "oof"})
SUBJECT_MAX_CHARS = 998


@dataclass(frozen=True)
class Incoming:
    """What the decision reads of an email: its top-level headers (names as given) and the fields
    the sync parsed from them."""

    headers: Sequence[Pair] = ()
    from_name: str = ""
    from_address: str = ""
    reply_to: Sequence[Sequence[str]] = ()
    to: Sequence[Sequence[str]] = ()
    cc: Sequence[Sequence[str]] = ()
    subject: str = ""
    body: str = ""


@dataclass(frozen=True)
class Condition:
    field: str  # one of FIELDS
    operator: str  # one of OPERATORS
    value: str


@dataclass(frozen=True)
class Decision:
    answer: bool
    reason: str = ""  # why not, for the log
    recipient: Pair | None = None  # whom the answer goes to


# -- RFC 3834: may it be answered at all -------------------------------------------------------------


def _first_token(value: str) -> str:
    """A structured header's keyword without parameters or comments: "auto-replied; x=1 (c)" -> "auto-replied"."""
    value = re.sub(r"\([^)]*\)", " ", value)
    return value.split(";", 1)[0].strip().lower()


def _valid_address(address: str) -> bool:
    if not address or address.count("@") != 1 or any(ch in address for ch in "\r\n\0"):
        return False
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def system_sender(address: str) -> bool:
    """An address of a mail system, a list or a robot rather than of a person."""
    local = address.rpartition("@")[0].lower()
    return (local in SYSTEM_LOCAL_PARTS or local.startswith("owner-") or local.endswith("-request")
            or local.endswith("-owner"))


def refusal(incoming: Incoming, *, own_addresses: Iterable[str] = (), is_our_answer: bool = False) -> str:
    """Why this email must not get an automatic answer (RFC 3834), or "" when it may. `own_addresses`
    are the answering mailbox's own; `is_our_answer`: the email is an answer inboxbridge sent itself
    (recognised by its Message-ID), in case a server on the way dropped its Auto-Submitted."""
    for name, value in incoming.headers:
        key = name.strip().lower()
        if key == "auto-submitted" and _first_token(value) != "no":
            return f"it was sent automatically (Auto-Submitted: {value.strip()[:60]})"
        if key == "precedence" and _first_token(value) in BULK_PRECEDENCE:
            return f"it is bulk or list mail (Precedence: {value.strip()[:60]})"
        if key.startswith("list-"):
            return f"it came through a mailing list ({name.strip()})"
        if key == "return-path" and value.strip().strip("<>").strip() == "":
            return "it is a bounce (empty Return-Path)"
        if key == "x-auto-response-suppress" and {
            part.strip().lower() for part in value.split(",")
        } & SUPPRESS_VALUES:
            return f"its sender asked for no automatic answer (X-Auto-Response-Suppress: {value.strip()[:60]})"
    if is_our_answer:
        return "it is an automatic answer sent by inboxbridge"
    sender = incoming.from_address.strip()
    if not _valid_address(sender):
        return "it has no valid From address"
    if system_sender(sender):
        return f"it comes from a mail system ({sender})"
    own = {address.lower() for address in own_addresses}
    if sender.lower() in own:
        return "it comes from the mailbox itself"
    recipient = answer_recipient(incoming)
    if recipient is None:
        return "it has no valid address to answer to"
    if recipient[1].lower() in own:
        return "its Reply-To is the mailbox itself"
    if system_sender(recipient[1]):
        return f"its Reply-To is a mail system ({recipient[1]})"
    return ""


def answer_recipient(incoming: Incoming) -> Pair | None:
    """Where the answer goes: the first valid Reply-To address, else the From (RFC 3834 3.1.5 lets a
    personal or group responder answer there; list mail, whose envelope differs, is never answered)."""
    for pair in incoming.reply_to:
        if len(pair) == 2 and _valid_address(pair[1].strip()):
            return (pair[0].strip(), pair[1].strip())
    if _valid_address(incoming.from_address.strip()):
        return (incoming.from_name.strip(), incoming.from_address.strip())
    return None


# -- the rule's conditions ----------------------------------------------------------------------------


def _address_texts(pairs: Iterable[Sequence[str]]) -> list[str]:
    """Each address as it may be compared: bare, with its name, and the name alone."""
    texts: list[str] = []
    for pair in pairs:
        if len(pair) != 2:
            continue
        name, address = pair[0].strip(), pair[1].strip()
        texts.append(address)
        if name:
            texts += [f"{name} <{address}>", name]
    return texts


def _candidates(condition: Condition, incoming: Incoming) -> list[str]:
    if condition.field == "from":
        return _address_texts([(incoming.from_name, incoming.from_address)])
    if condition.field == "to":
        return _address_texts(incoming.to)
    if condition.field == "cc":
        return _address_texts(incoming.cc)
    if condition.field == "subject":
        return [incoming.subject.strip()]
    return [incoming.body.strip()]


def condition_matches(condition: Condition, incoming: Incoming) -> bool:
    """Case-insensitive. For From, To and Cc each address counts on its own: "To equals
    support@contoso.com" matches a message to support@ and someone else."""
    wanted = condition.value.strip().casefold()
    for text in _candidates(condition, incoming):
        text = text.casefold()
        if condition.operator == "equals" and text == wanted:
            return True
        if condition.operator == "starts_with" and text.startswith(wanted):
            return True
        if condition.operator == "contains" and wanted in text:
            return True
    return False


def matches(conditions: Iterable[Condition], incoming: Incoming) -> bool:
    """All conditions must match; a rule without conditions answers every email it may."""
    return all(condition_matches(condition, incoming) for condition in conditions)


def decide(incoming: Incoming, conditions: Iterable[Condition], *, own_addresses: Iterable[str] = (),
           is_our_answer: bool = False) -> Decision:
    """Answer this email with this rule? (The once-per-sender-per-day limit is the database's.)"""
    why_not = refusal(incoming, own_addresses=own_addresses, is_our_answer=is_our_answer)
    if why_not:
        return Decision(False, why_not)
    if not matches(conditions, incoming):
        return Decision(False, "the rule's conditions do not match")
    return Decision(True, recipient=answer_recipient(incoming))


# -- the template -------------------------------------------------------------------------------------


def template_problems(template: str) -> list[str]:
    """What is wrong with a template, each said so its author can fix it; [] when it is usable.
    Only the plain names of PLACEHOLDERS are allowed: no attribute or index access ({0.__class__},
    {subject[0]}), no conversion and no format spec, so a template can only ever insert text."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return ["A single { or } must be written twice ({{ or }}) to appear as itself."]
    unknown: list[str] = []
    problems: list[str] = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            unknown.append("{" + name + "}")
        elif spec or conversion:
            problems.append(f"The placeholder {{{name}}} takes no format or conversion; write {{{name}}}.")
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        listed = ", ".join(dict.fromkeys(unknown))
        problems.insert(0, f"Unknown placeholder{'s' if len(unknown) > 1 else ''} {listed}. Use {known}.")
    return problems


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill a template that template_problems() accepted. Only the mapping's plain strings are
    inserted (format_map looks names up in the mapping, and the check above refused every field
    that is not a plain placeholder name)."""
    if template_problems(template):
        raise ValueError("the template was not checked")
    safe = {name: str(values.get(name, "")) for name in PLACEHOLDERS}
    return template.format_map(safe)


def one_line(text: str) -> str:
    """A header value from text that may hold line breaks (a header cannot)."""
    return " ".join(text.split())[:SUBJECT_MAX_CHARS]
