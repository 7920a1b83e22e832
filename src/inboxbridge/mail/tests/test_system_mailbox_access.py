"""A system mailbox's mail is read by its Authorized Users, the members of its Authorized Roles and
the administrators; everyone else gets 404 on every URL of it, and losing the role hides it again."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from tests.factories import make_mailbox

from inboxbridge.mail.tests.helpers import mail_urls, message, statuses, store
from inboxbridge.sending.models import OutgoingMessage

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex("89504e470d0a1a0a")


@pytest.fixture
def support(django_user_model):
    """The system mailbox "Support", readable by the role "Support team", with one conversation."""
    mailbox = make_mailbox(None, label="Support", email_address="support@example.test")
    role = Group.objects.create(name="Support team")
    mailbox.authorized_roles.add(role)
    email = store(mailbox, message(
        "Customer complaint", text=None, html='<p>Hi</p><img src="cid:logo@x">', message_id="root@x",
        attachments=[("contract.pdf", "application/pdf", b"%PDF contract")], inline=[("logo@x", "image/png", PNG)],
    ))
    store(mailbox, message("Re: Customer complaint", in_reply_to="root@x"))
    return {"mailbox": mailbox, "role": role, "email": email}


@pytest.fixture
def member(django_user_model, support):
    user = django_user_model.objects.create_user("agent", "agent@example.test", "agent-password-1")
    make_mailbox(user)  # their own mailbox too
    user.groups.add(support["role"])
    return user


def urls_of(data, writer) -> dict[str, tuple[str, str]]:
    email = data["email"]
    # A message the user wrote from the mailbox while they still could.
    sent = OutgoingMessage.objects.create(mailbox=data["mailbox"], author=writer, subject="Answer",
                                          message_id="answer@x", mime=b"")
    return {
        **mail_urls(email, attachment="contract.pdf", content_id="logo@x"),
        "reply": ("get", reverse("sending:reply", args=[email.pk])),
        "outbox message": ("get", reverse("sending:detail", args=[sent.pk])),
    }


def test_a_member_of_an_authorized_role_reads_the_mailbox_and_loses_it_with_the_role(client, support, member):
    urls = urls_of(support, member)
    client.force_login(member)
    assert all(code in (200, 302) for code in statuses(client, urls).values()), statuses(client, urls)
    assert "Customer complaint" in client.get(reverse("mail:list")).content.decode()

    member.groups.remove(support["role"])
    assert set(statuses(client, urls).values()) == {404}
    listing = client.get(reverse("mail:list")).content.decode()
    assert "Customer complaint" not in listing and "Support" not in listing
    assert "Answer" not in client.get(reverse("sending:outbox")).content.decode()


def test_a_user_outside_the_roles_gets_404_on_every_url(client, support, member, django_user_model):
    outsider = django_user_model.objects.create_user("outsider", "outsider@example.test", "outsider-password-1")
    make_mailbox(outsider)
    urls = urls_of(support, outsider)
    client.force_login(outsider)
    assert set(statuses(client, urls).values()) == {404}
    assert "Customer complaint" not in client.get(reverse("mail:list"), {"q": "complaint"}).content.decode()


def test_an_authorized_user_and_an_administrator_read_it(client, support, django_user_model):
    named = django_user_model.objects.create_user("named", "named@example.test", "named-password-1")
    support["mailbox"].authorized_users.add(named)
    admin = django_user_model.objects.create_user("boss", "boss@example.test", "boss-password-1", is_staff=True)
    for user in (named, admin):
        client.force_login(user)
        codes = statuses(client, urls_of(support, user))
        assert all(code in (200, 302) for code in codes.values()), (user, codes)


def test_my_emails_switches_between_the_users_mailboxes_with_unread_counts(client, support, member):
    own = member.mailboxes.get()
    store(own, message("My own note"))
    client.force_login(member)
    everything = client.get(reverse("mail:list")).content.decode()
    switcher = everything.split('id="mailbox-switcher"')[1].split("</ul>")[0]
    assert "Support" in switcher and own.email_address in switcher
    assert f'data-mailbox-id="{support["mailbox"].pk}">Support <span class="unread-count" title="Unread">2</span>' \
        in switcher
    assert "Customer complaint" in everything and "My own note" in everything

    chosen = client.get(reverse("mail:list"), {"mailbox": support["mailbox"].pk}).content.decode()
    assert "Customer complaint" in chosen and "My own note" not in chosen and "Unread (2)" in chosen
    mine = client.get(reverse("mail:list"), {"mailbox": own.pk}).content.decode()
    assert "My own note" in mine and "Customer complaint" not in mine

    member.groups.remove(support["role"])
    assert client.get(reverse("mail:list"), {"mailbox": support["mailbox"].pk}).status_code == 404
    assert 'id="mailbox-switcher"' not in client.get(reverse("mail:list")).content.decode()  # one mailbox left
