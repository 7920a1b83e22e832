"""Sync mail from: a system mailbox syncs the mail from the day it was set up unless an
administrator picks an earlier date or all mail; a user's own mailbox keeps all mail (or the last
N days) as before. Checked against Dovecot with messages whose INTERNALDATE is weeks old."""

from __future__ import annotations

import imaplib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.factories import STANDARD_FOLDERS, make_mailbox

from inboxbridge.mail.models import Email
from inboxbridge.mailboxes.forms import FolderSelectionForm
from inboxbridge.mailboxes.models import Folder, Mailbox
from inboxbridge.sync.engine import sync_mailbox
from inboxbridge.sync.tests.helpers import make_message

OLD, NEW = "Invoice from last month", "Question from this morning"


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_user("admin", "admin@example.test", "admin-password-1", is_staff=True)
    client.force_login(user)
    return user


def page_of(mailbox: Mailbox) -> str:
    return reverse("mailbox-settings:system-mailbox", args=[mailbox.pk])


def save_folders(client, mailbox: Mailbox, **choices: str):
    inbox = mailbox.folders.get(name="INBOX")
    return client.post(reverse("mailbox-settings:system-mailbox-folders", args=[mailbox.pk]),
                       {"folders": [inbox.pk], **choices}, follow=True)


@pytest.fixture
def on_dovecot(mail_stack, identity, settings, client, admin):
    """A system mailbox set up now against Dovecot, whose INBOX holds a message received 35 days
    ago and one received now; its folders retrieved as the administrator's Retrieve Folders does."""
    settings.CA_BUNDLE = str(identity.ca_file)

    def make() -> Mailbox:
        address = f"desk-{uuid.uuid4().hex[:8]}@example.test"
        password = mail_stack.add_user(address)
        imap = mail_stack.imap(address)
        for subject, received in ((OLD, datetime.now(UTC) - timedelta(days=35)), (NEW, datetime.now(UTC))):
            typ, data = imap.append("INBOX", "", imaplib.Time2Internaldate(received),
                                    make_message(subject, date=received, to=address))
            assert typ == "OK", data
        imap.logout()
        mailbox = make_mailbox(None, folders=(), email_address=address, username=address, password=password,
                               imap_host=mail_stack.host, imap_port=mail_stack.imaps_port, imap_ssl=True,
                               smtp_host=mail_stack.host, smtp_port=mail_stack.submission_port)
        retrieved = client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]),
                                follow=True)
        assert "Retrieved" in retrieved.content.decode()
        return mailbox

    return make


def synced_subjects(mailbox: Mailbox) -> set[str]:
    sync_mailbox(mailbox.pk)
    return set(Email.objects.filter(mailbox=mailbox).values_list("subject", flat=True))


@pytest.mark.mailserver
@pytest.mark.django_db
def test_a_system_mailbox_set_up_today_does_not_sync_last_months_mail(client, on_dovecot):
    mailbox = on_dovecot()
    today = timezone.localdate()
    page = client.get(page_of(mailbox)).content.decode()
    assert f'<option value="setup" selected>The day it was set up ({today:%Y-%m-%d})</option>' in page

    saved = save_folders(client, mailbox, sync_start="setup")
    assert "Folder selection saved" in saved.content.decode()
    assert synced_subjects(mailbox) == {NEW}
    mailbox.refresh_from_db()
    assert mailbox.sync_from == today and mailbox.folders.get(name="INBOX").sync_since == today
    # The page shows the choice that was saved.
    assert '<option value="setup" selected>' in client.get(page_of(mailbox)).content.decode()


@pytest.mark.mailserver
@pytest.mark.django_db
@pytest.mark.parametrize(("choices", "expected"), [
    ({"sync_start": "date", "sync_from_date": str(timezone.localdate() - timedelta(days=60))}, {OLD, NEW}),
    ({"sync_start": "all"}, {OLD, NEW}),
    ({"sync_start": "90"}, {OLD, NEW}),
    ({"sync_start": "7"}, {NEW}),
])
def test_an_earlier_date_or_all_mail_brings_in_the_older_mail(client, on_dovecot, choices, expected):
    mailbox = on_dovecot()
    assert "Folder selection saved" in save_folders(client, mailbox, **choices).content.decode()
    assert synced_subjects(mailbox) == expected
    page = client.get(page_of(mailbox)).content.decode()
    assert f'<option value="{choices["sync_start"]}" selected>' in page
    if "sync_from_date" in choices:
        assert f'value="{choices["sync_from_date"]}"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(("choices", "says"), [
    ({"sync_start": "date"}, "Date: Enter the date to sync mail from"),
    ({"sync_start": "date", "sync_from_date": str(timezone.localdate() + timedelta(days=3))},
     "Date: The date is in the future"),
    ({"sync_start": "all", "sync_from_date": "2026-01-02"}, "You entered 2026-01-02: choose"),
])
def test_a_date_that_cannot_be_used_is_refused_and_nothing_changes(client, admin, choices, says):
    mailbox = make_mailbox(None, folders=(("INBOX", "Inbox", "\\Inbox"),))
    Folder.objects.filter(mailbox=mailbox).update(selected=False)
    answer = save_folders(client, mailbox, **choices).content.decode()
    assert "The folder selection was not saved." in answer and says in answer
    assert not mailbox.folders.get(name="INBOX").selected


@pytest.mark.django_db
def test_a_users_own_mailbox_keeps_all_mail_by_default_and_has_no_setup_choice():
    mailbox = make_mailbox(folders=(("INBOX", "Inbox", "\\Inbox"),))
    Folder.objects.filter(mailbox=mailbox).update(selected=False)
    form = FolderSelectionForm(folders=list(mailbox.folders.all()))
    assert form.initial["sync_start"] == "all"
    assert [value for value, _label in form.fields["sync_start"].choices] == ["all", "7", "30", "90", "365", "date"]


@pytest.mark.django_db
def test_a_system_mailbox_saved_with_all_mail_shows_all_mail_again(client, admin):
    mailbox = make_mailbox(None, folders=(("INBOX", "Inbox", "\\Inbox"),))
    Folder.objects.filter(mailbox=mailbox).update(selected=False)
    save_folders(client, mailbox, sync_start="all")
    mailbox.refresh_from_db()
    assert (mailbox.sync_from, mailbox.initial_sync_days) == (None, None)
    assert mailbox.folders.get(name="INBOX").sync_since is None
    assert '<option value="all" selected>All mail</option>' in client.get(page_of(mailbox)).content.decode()


@pytest.mark.django_db
def test_a_users_own_mailbox_page_shows_its_saved_window_and_sent_folder(client):
    mailbox = make_mailbox(folders=(*STANDARD_FOLDERS, ("Archive", "Archive", "\\Archive")),
                           initial_sync_days=30, sent_folder_name="Archive")
    client.force_login(mailbox.owner)
    page = client.get(reverse("mailboxes:mailbox", args=[mailbox.pk])).content.decode()
    assert '<option value="30" selected>' in page
    assert '<option value="Archive" selected>' in page
