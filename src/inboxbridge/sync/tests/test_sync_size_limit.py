"""A sync stores mail over the size limit as a marked email with its headers (or, when the server
announced more than it may send, a marked email without content), stores every other message,
and carries on from there: the next sync does not fetch them again."""

from __future__ import annotations

import pytest

from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.mailserver.tests.fake_imap import flood, message
from inboxbridge.sync.engine import sync_mailbox
from inboxbridge.sync.tests import fake_mailbox

pytestmark = pytest.mark.django_db(transaction=True)
fake_office365 = fake_mailbox.fake_office365

LIMIT = 1024 * 1024


@pytest.mark.parametrize("in_helper", [False, True], ids=["in-process", "helper-process"])
def test_mail_over_the_size_limit_is_listed_marked_and_the_rest_is_stored(fake_office365, settings, in_helper):
    settings.IMAP_MAX_LITERAL_BYTES = LIMIT
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1 if in_helper else 1000
    announced = b"* 3 FETCH (UID 3 FLAGS () RFC822.SIZE 99999999999 BODY[] {99999999999}\r\n"
    server, mailbox = fake_office365(
        {1: message("first"), 2: message("Holiday photos", b"x" * (3 * LIMIT)), 3: b"", 4: message("fourth")},
        hostile_fetch={3: flood(announced)},
    )

    result = sync_mailbox(mailbox.pk)

    assert (result.error, result.complete, result.fetched) == ("", True, 4)
    emails = {e.subject: e for e in Email.objects.filter(mailbox=mailbox)}
    assert set(emails) == {"first", "Holiday photos", "", "fourth"}
    photos, unread = emails["Holiday photos"], emails[""]
    assert photos.truncated and photos.size == len(message("Holiday photos", b"x" * (3 * LIMIT)))
    assert any("over the limit of 1.0 MB for one message: only its headers were stored" in d for d in photos.defects)
    assert photos.from_address == "sender@example.test"  # what its headers said
    assert unread.truncated and any("announced this message as 95,367.4 MB" in d for d in unread.defects)
    assert not emails["first"].truncated and not emails["fourth"].truncated
    assert emails["fourth"].body_text.strip() == "Hello."
    assert Folder.objects.get(mailbox=mailbox).last_uid == 4
    assert Mailbox.objects.get(pk=mailbox.pk).last_error == ""
    assert any(c.hung_up for c in server.connections)  # the announced literal was not read

    again = sync_mailbox(mailbox.pk)
    assert (again.error, again.fetched) == ("", 0)


@pytest.mark.parametrize("in_helper", [False, True], ids=["in-process", "helper-process"])
def test_the_deployments_body_and_part_limits_apply_to_synced_mail(fake_office365, settings, in_helper):
    settings.BODY_MAX_BYTES = 4096
    settings.MESSAGE_MAX_PARTS = 5
    settings.SYNC_PARALLEL_MIN_MESSAGES = 1 if in_helper else 1000
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % n for n in range(20)) + b"--b--\r\n"
    many_parts = message("Digest").replace(b"\r\n\r\n", b"\r\nMIME-Version: 1.0\r\n"
                                           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n", 1) + parts
    _, mailbox = fake_office365({1: message("Long letter", b"word " * 5000), 2: many_parts, 3: message("Short")})

    assert sync_mailbox(mailbox.pk).error == ""

    emails = {e.subject: e for e in Email.objects.filter(mailbox=mailbox)}
    letter, digest = emails["Long letter"], emails["Digest"]
    assert letter.truncated and len(letter.body_text.encode()) <= 4096
    assert digest.truncated and "part 19" not in digest.body_text
    assert not emails["Short"].truncated
