"""One rule says whether a mailbox may sync: the check of a mailbox in hand and the filter the
scheduler claims with agree on every combination of the fields involved, and every place that
says why a mailbox does not sync says it in the same words."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.template import Context, Template
from tests.factories import make_mailbox

from inboxbridge.configuration.models import StoredSetting
from inboxbridge.mailboxes import messages
from inboxbridge.mailboxes.eligibility import Refusal, eligible_q, sync_refusal
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.microsoft.config import EMAIL_SYNC_ENABLED
from inboxbridge.sync import engine

pytestmark = pytest.mark.django_db

FIELDS = {
    "active": (True, False),
    "sync_enabled": (True, False),
    "needs_reconnect": (False, True),
    "account_type": (Mailbox.AccountType.OTHER, Mailbox.AccountType.OFFICE365),
}


def every_combination() -> list[Mailbox]:
    return [make_mailbox(owner=None, folders=(), **dict(zip(FIELDS, values, strict=True)))
            for values in itertools.product(*FIELDS.values())]


def switch_office365(on: bool) -> None:
    StoredSetting.objects.update_or_create(key=EMAIL_SYNC_ENABLED.key, defaults={"value": "1" if on else "0"})


@pytest.mark.parametrize("office365_enabled", [True, False])
def test_the_check_and_the_filter_agree_on_every_combination(office365_enabled: bool) -> None:
    mailboxes = every_combination()
    switch_office365(office365_enabled)
    by_check = {m.pk for m in mailboxes if sync_refusal(m) is None}
    by_filter = set(Mailbox.objects.filter(eligible_q()).values_list("pk", flat=True))
    assert by_check == by_filter
    # Given the switch instead of reading it: the same answer.
    assert by_check == {m.pk for m in mailboxes if sync_refusal(m, office365_enabled=office365_enabled) is None}
    assert by_filter == set(
        Mailbox.objects.filter(eligible_q(office365_enabled=office365_enabled)).values_list("pk", flat=True)
    )
    # Exactly the switched-on mailboxes the owner has not to reconnect, Office 365 ones only while enabled.
    assert len(by_check) == (2 if office365_enabled else 1)


@pytest.mark.parametrize("fields,refusal", [
    ({"active": False, "needs_reconnect": True}, Refusal.DISCONNECTED),
    ({"needs_reconnect": True, "sync_enabled": False}, Refusal.NEEDS_RECONNECT),
    ({"sync_enabled": False, "account_type": Mailbox.AccountType.OFFICE365}, Refusal.SYNC_SWITCHED_OFF),
    ({"account_type": Mailbox.AccountType.OFFICE365}, Refusal.OFFICE365_DISABLED),
])
def test_the_engine_and_the_status_card_give_the_same_reason(fields: dict[str, Any], refusal: Refusal) -> None:
    mailbox = make_mailbox(**fields)
    assert sync_refusal(mailbox) is refusal
    result = engine.sync_mailbox(mailbox.pk)
    assert not result.complete and result.error == refusal.text
    card = Template("{% load sync_status %}{% sync_status mailbox %}").render(Context({"mailbox": mailbox}))
    assert refusal.text in card and 'id="sync-now" disabled' in card


def test_the_reconnect_sentence_is_the_same_everywhere(client: Any) -> None:
    mailbox = make_mailbox(needs_reconnect=True, reconnect_reason="AADSTS70000: the grant was revoked")
    client.force_login(mailbox.owner)
    page = client.get(f"/my/email-configuration/{mailbox.pk}/").content.decode()
    assert page.count(messages.RECONNECT_MESSAGE) == 2  # the alert on every page, and the page's own banner
    assert messages.reconnect_alert(mailbox.email_address) in page
