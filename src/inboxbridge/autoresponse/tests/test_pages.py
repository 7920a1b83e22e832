"""The Autoresponse Rules pages of a system mailbox: administrators only, the template's
placeholders checked by name, enable and disable, delete; and the answering task, run twice or
after its rule was disabled, queues nothing more (no mail server: the outbox is only filled)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.factories import make_mailbox

from inboxbridge.accounts.models import AuditEvent
from inboxbridge.autoresponse import actions, responder
from inboxbridge.autoresponse.models import Answer, Rule
from inboxbridge.autoresponse.queries import awaiting_answers
from inboxbridge.mail.tests.helpers import folder, message, store
from inboxbridge.sending.models import OutgoingMessage
from inboxbridge.sending.queries import visible_outgoing

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return admin_user


@pytest.fixture
def help_desk():
    return make_mailbox(None, label="Help Desk")


def form_data(**fields: str) -> dict[str, str]:
    return {"name": "Acknowledge", "enabled": "on", "subject_template": "", "body_template": "Thanks, {sender_name}.",
            "condition_0_field": "subject", "condition_0_operator": "contains", "condition_0_value": "printer",
            **fields}


def test_only_administrators_open_the_pages(client, plain_user, help_desk):
    rule = Rule.objects.create(mailbox=help_desk, name="R", body_template="x")
    urls = [reverse("autoresponse:rules", args=[help_desk.pk]), reverse("autoresponse:add-rule", args=[help_desk.pk]),
            reverse("autoresponse:rule", args=[help_desk.pk, rule.pk])]
    client.force_login(plain_user)
    assert [client.get(url).status_code for url in urls] == [403, 403, 403]
    assert client.post(reverse("autoresponse:delete-rule", args=[help_desk.pk, rule.pk])).status_code == 403
    assert Rule.objects.filter(pk=rule.pk).exists()


def test_a_users_own_mailbox_has_no_autoresponse_pages(client, admin):
    own = make_mailbox(admin)
    assert client.get(reverse("autoresponse:rules", args=[own.pk])).status_code == 404


def test_the_system_mailbox_page_links_to_its_rules(client, admin, help_desk):
    page = client.get(reverse("mailbox-settings:system-mailbox", args=[help_desk.pk])).content.decode()
    assert reverse("autoresponse:rules", args=[help_desk.pk]) in page


def test_an_administrator_adds_a_rule_that_starts_from_the_mail_arriving_next(client, admin, help_desk):
    older = store(help_desk, message("Printer on fire yesterday"))
    response = client.post(reverse("autoresponse:add-rule", args=[help_desk.pk]), form_data(
        condition_1_field="from", condition_1_operator="equals", condition_1_value="carol@fabrikam.test"))
    rule = Rule.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("autoresponse:rule",
                                                                          args=[help_desk.pk, rule.pk])
    assert rule.enabled and rule.author == admin and rule.checked_up_to == older.pk
    assert rule.conditions == [{"field": "subject", "operator": "contains", "value": "printer"},
                               {"field": "from", "operator": "equals", "value": "carol@fabrikam.test"}]
    listing = client.get(reverse("autoresponse:rules", args=[help_desk.pk])).content.decode()
    assert "Acknowledge" in listing and "Subject contains “printer” and From equals “carol@fabrikam.test”" in listing
    assert AuditEvent.objects.filter(action="autoresponse.rule_added", actor=admin).exists()


@pytest.mark.parametrize(("fields", "text"), [
    ({"body_template": "Hi {name}, ticket {ticket}"}, "Unknown placeholders {name}, {ticket}."),
    ({"body_template": "{0.__class__}"}, "Unknown placeholder {0.__class__}."),
    ({"subject_template": "{subject.__class__}"}, "Unknown placeholder {subject.__class__}."),
    ({"body_template": "{subject!r}"}, "The placeholder {subject} takes no format or conversion"),
    ({"body_template": "Hi {"}, "A single { or } must be written twice"),
    ({"condition_0_value": ""}, "Give the text this condition looks for."),
    ({"condition_0_field": "", "condition_0_value": "printer"}, "Choose the field this condition looks at."),
    ({"body_template": ""}, "This field is required."),
])
def test_a_rule_that_cannot_work_is_refused_with_the_reason(client, admin, help_desk, fields, text):
    response = client.post(reverse("autoresponse:add-rule", args=[help_desk.pk]), form_data(**fields))
    assert response.status_code == 400 and text in response.content.decode()
    assert not Rule.objects.exists()


def test_disable_enable_and_delete(client, admin, help_desk):
    rule = actions.save_rule(admin, Rule(mailbox=help_desk, name="Acknowledge", body_template="Thanks."))
    toggle = reverse("autoresponse:toggle-rule", args=[help_desk.pk, rule.pk])
    client.post(toggle, {"enabled": "0"})
    assert not Rule.objects.get().enabled
    newer = store(help_desk, message("While disabled"))
    client.post(toggle, {"enabled": "1"})
    rule.refresh_from_db()
    assert rule.enabled and rule.checked_up_to == newer.pk  # what came while disabled is not answered
    client.post(reverse("autoresponse:delete-rule", args=[help_desk.pk, rule.pk]))
    assert not Rule.objects.exists()


def test_the_answering_task_run_twice_queues_one_answer_in_the_authors_outbox(admin, help_desk):
    rule = actions.save_rule(admin, Rule(mailbox=help_desk, name="Acknowledge", body_template="Thanks, {sender_name}.",
                                         conditions=[{"field": "subject", "operator": "contains", "value": "printer"}]))
    original = store(help_desk, message("Printer on fire", sender="Carol <carol@fabrikam.test>",
                                        to=help_desk.email_address), in_folder=folder(help_desk, "INBOX"))
    store(help_desk, message("Lunch", sender="Dave <dave@fabrikam.test>", to=help_desk.email_address))
    assert len(responder.answer_new_mail(help_desk.pk)) == 1
    assert responder.answer_new_mail(help_desk.pk) == []
    # Even a run that starts from the old high-water mark (a second worker) answers nothing more.
    Rule.objects.filter(pk=rule.pk).update(checked_up_to=0, enabled_at=timezone.now())
    assert responder.answer_new_mail(help_desk.pk) == []
    answer = Answer.objects.get()
    assert answer.email == original and answer.recipient == "carol@fabrikam.test"
    queued = OutgoingMessage.objects.get()
    assert queued.to == [["Carol", "carol@fabrikam.test"]] and queued.body_text == "Thanks, Carol."
    assert b"Auto-Submitted: auto-replied" in bytes(queued.mime)
    assert list(visible_outgoing(admin)) == [queued]


def test_mail_outside_the_inbox_is_not_answered(admin, help_desk):
    actions.save_rule(admin, Rule(mailbox=help_desk, name="Acknowledge", body_template="Thanks."))
    store(help_desk, message("Filed away", sender="carol@fabrikam.test"), in_folder=folder(help_desk, "Sent Items"))
    assert responder.answer_new_mail(help_desk.pk) == []
    assert Rule.objects.get().checked_up_to > 0  # looked at, and passed over


def test_a_disabled_rule_answers_nothing(admin, help_desk):
    rule = actions.save_rule(admin, Rule(mailbox=help_desk, name="Acknowledge", body_template="Thanks."))
    store(help_desk, message("Printer", sender="carol@fabrikam.test"))
    actions.set_rule_enabled(admin, rule, False)
    assert responder.answer_new_mail(help_desk.pk) == [] and not OutgoingMessage.objects.exists()


def test_after_a_sync_the_task_is_wanted_only_while_a_rule_that_can_answer_has_mail_to_look_at(admin, help_desk):
    store(help_desk, message("Before any rule"))
    assert not awaiting_answers(help_desk.pk)
    rule = actions.save_rule(admin, Rule(mailbox=help_desk, name="Acknowledge", body_template="Thanks."))
    assert not awaiting_answers(help_desk.pk)  # what was there is not for the rule
    store(help_desk, message("New", sender="carol@fabrikam.test"))
    assert awaiting_answers(help_desk.pk)
    actions.set_rule_enabled(admin, rule, False)
    assert not awaiting_answers(help_desk.pk)


def test_a_rule_whose_author_left_still_answers_through_another_administrators_outbox(
        admin, help_desk, django_user_model, client):
    rule = actions.save_rule(admin, Rule(mailbox=help_desk, name="Acknowledge", body_template="Thanks."))
    other = django_user_model.objects.create_user("otto", "otto@example.test", "otto-password-1", is_staff=True)
    admin.is_active = False  # the author left (deactivated; deleted sets the author to none)
    admin.save()
    store(help_desk, message("Printer", sender="carol@fabrikam.test", to=help_desk.email_address))

    assert len(responder.answer_new_mail(help_desk.pk)) == 1
    assert list(visible_outgoing(other)) == [OutgoingMessage.objects.get()]

    client.force_login(other)
    page = client.get(reverse("autoresponse:rules", args=[help_desk.pk])).content.decode()
    assert "its author's account is gone: its answers go out through another administrator's outbox" in page

    # Deleted: the same, and saving it again makes the one who saved it its author.
    admin.delete()
    rule.refresh_from_db()
    assert rule.author is None
    store(help_desk, message("Scanner", sender="dave@fabrikam.test", to=help_desk.email_address))
    assert len(responder.answer_new_mail(help_desk.pk)) == 1
    assert OutgoingMessage.objects.filter(author=other).count() == 2
    assert actions.save_rule(other, rule).author == other
