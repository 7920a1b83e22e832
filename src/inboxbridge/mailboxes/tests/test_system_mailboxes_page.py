"""System > Configuration > Email Configuration > System Mailboxes: only administrators add, edit
and delete system mailboxes, with a unique label and address, and choose who may read them."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.mail.tests.helpers import message, store
from inboxbridge.mailboxes.models import Mailbox
from inboxbridge.sync.engine import sync_mailbox

pytestmark = pytest.mark.django_db

LIST = reverse("mailbox-settings:system-mailboxes")
ADD = reverse("mailbox-settings:add-system-mailbox")


@pytest.fixture
def admin(client, django_user_model):
    user = django_user_model.objects.create_user("admin", "admin@example.test", "admin-password-1", is_staff=True)
    client.force_login(user)
    return user


def test_only_administrators_open_the_pages(client, django_user_model):
    mailbox = make_mailbox(None, label="Support")
    user = django_user_model.objects.create_user("user", "user@example.test", "user-password-1")
    client.force_login(user)
    urls = [LIST, ADD, reverse("mailbox-settings:system-mailbox", args=[mailbox.pk])]
    assert [client.get(url).status_code for url in urls] == [403, 403, 403]
    assert client.post(ADD, {"label": "Sales", "email_address": "sales@example.test",
                             "account_type": "other"}).status_code == 403
    delete = reverse("mailbox-settings:delete-system-mailbox", args=[mailbox.pk])
    assert client.post(delete, {"mail": "delete"}).status_code == 403
    assert Mailbox.objects.filter(owner__isnull=True, active=True).count() == 1


def test_an_administrator_adds_a_system_mailbox_and_grants_a_role(client, admin, django_user_model):
    role = Group.objects.create(name="Sales team")
    seller = django_user_model.objects.create_user("seller", "seller@example.test", "seller-password-1")
    response = client.post(ADD, {"label": "Sales", "email_address": "sales@example.test", "account_type": "other",
                                 "authorized_roles": [role.pk], "authorized_users": [seller.pk]})
    mailbox = Mailbox.objects.get(label="Sales")
    assert response.status_code == 302
    assert mailbox.owner is None and mailbox.email_address == "sales@example.test"
    assert list(mailbox.authorized_roles.all()) == [role] and list(mailbox.authorized_users.all()) == [seller]
    listing = client.get(LIST).content.decode()
    assert "Sales" in listing and "sales@example.test" in listing and "Other" in listing
    assert AuditEvent.objects.filter(actor=admin, action="system_mailbox.added", target="sales@example.test").exists()

    # Edit: the role is revoked, the label changes.
    edit = reverse("mailbox-settings:system-mailbox", args=[mailbox.pk])
    client.post(edit, {"label": "Sales EU", "email_address": "sales@example.test", "authorized_users": [seller.pk]})
    mailbox.refresh_from_db()
    assert mailbox.label == "Sales EU" and not mailbox.authorized_roles.exists()


@pytest.mark.parametrize(("field", "text"), [
    ("label", "A system mailbox with this label already exists."),
    ("email_address", "A system mailbox with this email address already exists."),
])
def test_label_and_email_are_required_and_unique(client, admin, field, text):
    make_mailbox(None, label="Support", email_address="support@example.test")
    data = {"label": "Other label", "email_address": "other@example.test", "account_type": "other",
            field: "Support" if field == "label" else "support@example.test"}
    response = client.post(ADD, data)
    assert response.status_code == 400 and text in response.content.decode()
    response = client.post(ADD, {"label": "", "email_address": "", "account_type": "other"})
    assert response.status_code == 400 and response.content.decode().count("This field is required.") == 2
    assert Mailbox.objects.filter(owner__isnull=True).count() == 1


@pytest.mark.parametrize("choice", ["keep", "delete"])
def test_deleting_keeps_or_deletes_its_mail_in_the_background(client, admin, choice, settings,
                                                              django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    mailbox = make_mailbox(None, label="Support")
    store(mailbox, message("A customer's question"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mailbox-settings:delete-system-mailbox", args=[mailbox.pk]), {"mail": choice})
    assert response.status_code == 302
    assert f"system-mailbox-{mailbox.pk}" not in client.get(LIST).content.decode()
    if choice == "keep":
        mailbox.refresh_from_db()
        assert not mailbox.active and mailbox.password == "" and mailbox.emails.count() == 1
    else:  # the purge task ran once the deletion committed
        assert not Mailbox.objects.filter(pk=mailbox.pk).exists()
    # Its label is free again.
    assert client.post(ADD, {"label": "Support", "email_address": mailbox.email_address,
                             "account_type": "other"}).status_code == 302


@pytest.mark.mailserver
def test_a_system_mailbox_of_type_other_syncs_from_the_mail_server_for_its_role(
        client, admin, mail_stack, identity, settings, django_user_model):
    settings.CA_BUNDLE = str(identity.ca_file)
    address = f"support-{uuid.uuid4().hex[:6]}@example.test"  # the mail server lives for the whole session
    password = mail_stack.add_user(address)
    mail_stack.deliver(message("Printer on fire"), to=address)
    role = Group.objects.create(name="Support team")
    client.post(ADD, {"label": "Support", "email_address": address, "account_type": "other",
                      "authorized_roles": [role.pk]})
    mailbox = Mailbox.objects.get(label="Support")
    page = reverse("mailbox-settings:system-mailbox", args=[mailbox.pk])
    other = reverse("mailbox-settings:system-mailbox-other", args=[mailbox.pk])
    form = {"imap_host": mail_stack.host, "imap_port": mail_stack.imaps_port, "imap_ssl": "on",
            "smtp_host": mail_stack.host, "smtp_port": mail_stack.submission_port, "smtp_security": "starttls",
            "username": address, "password": "wrong"}
    refused = client.post(other, form)
    assert refused.status_code == 400 and "IMAP check failed" in refused.content.decode()
    assert "checked and saved" in client.post(other, {**form, "password": password}, follow=True).content.decode()
    mailbox.refresh_from_db()
    assert mailbox.password == password and mailbox.email_address == address
    assert password not in client.get(page).content.decode()

    retrieved = client.post(reverse("mailbox-settings:system-mailbox-retrieve-folders", args=[mailbox.pk]),
                            follow=True).content.decode()
    assert "Retrieved" in retrieved and 'id="folder-form"' in retrieved
    inbox = mailbox.folders.get(name="INBOX")
    client.post(reverse("mailbox-settings:system-mailbox-folders", args=[mailbox.pk]), {"folders": [inbox.pk]})
    assert sync_mailbox(mailbox.pk).fetched == 1

    agent = django_user_model.objects.create_user("agent", "agent@example.test", "agent-password-1")
    agent.groups.add(role)
    client.force_login(agent)
    assert "Printer on fire" in client.get(reverse("mail:list"), {"mailbox": mailbox.pk}).content.decode()
    agent.groups.remove(role)
    assert client.get(reverse("mail:list"), {"mailbox": mailbox.pk}).status_code == 404
