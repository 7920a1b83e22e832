"""A batch of a first sync stored at once: Emails go in as multi-row statements (several per batch
when the columns outnumber one statement's parameters), each with its own values, thread and
search entry, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from tests.factories import make_mailbox

from inboxbridge.lib.mime import ParseLimits
from inboxbridge.mail.models import Email
from inboxbridge.mail.search import filter_matching
from inboxbridge.mail.tests.helpers import folder, message
from inboxbridge.mailserver.imap import FetchedMessage
from inboxbridge.sync.pipeline import prepared
from inboxbridge.sync.store import EMAIL_COLUMNS, store_batch

pytestmark = pytest.mark.django_db

WORDS = ["walrus", "quince", "harbour", "lantern", "meadow", "copper", "thistle", "saffron"]


def test_a_big_batch_is_stored_whole_and_searchable():
    mailbox = make_mailbox(get_user_model().objects.create_user("batch"))
    inbox = folder(mailbox)
    count = 120  # three statements of Emails at SQLite's 999 parameters (27 columns each)
    assert count * len(EMAIL_COLUMNS) > 999 * 2
    raws = [message(f"Report {n}", text=f"Number {n} mentions {WORDS[n % len(WORDS)]}{n}z.",
                    sender=f"Sender {n} <s{n}@elsewhere.test>", message_id=f"m{n}@elsewhere.test")
            for n in range(count)]
    fetched = [FetchedMessage(uid=n + 1, flags=("\\Seen",) if n % 3 == 0 else (), internaldate=None,
                              size=len(raw), raw=raw) for n, raw in enumerate(raws)]

    batch = list(prepared(fetched, ParseLimits(attachment_bytes=1024 * 1024)))
    created = store_batch(mailbox.pk, inbox.pk, batch, last_uid=count)

    assert created == count
    emails = {e.message_id: e for e in Email.objects.filter(mailbox=mailbox)}
    assert len(emails) == count
    for n in range(count):
        email = emails[f"m{n}@elsewhere.test"]
        assert email.subject == f"Report {n}"
        assert email.from_address == f"s{n}@elsewhere.test"
        assert email.is_seen == (n % 3 == 0)
        assert email.placements.get().uid == n + 1
        # Every row reached the search index, whichever statement carried it.
        word = f"{WORDS[n % len(WORDS)]}{n}z"  # no word is the start of another
        assert list(filter_matching(Email.objects.filter(mailbox=mailbox), word)) == [email]
    assert len({e.thread_id for e in emails.values()}) == count
