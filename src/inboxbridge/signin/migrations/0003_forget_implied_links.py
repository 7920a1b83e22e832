"""Links that no user chose are removed, now that only a user's confirmed choice (and, for users who are
not administrators, the domain rule) links an account.

Before, a first sign-in linked the account of a user's connected mailbox, and the domain rule linked
administrators too; both were audited as "first sign-in", a link by the user as "linked by the user".
So a link without a "linked by the user" event is removed when it belongs to an administrator or
matches one of the user's mailboxes; the rest came from the domain rule, which still applies.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

REASON = "not chosen by its user (implied by a connected mailbox, or an administrator's sign-in name)"


def forget_implied_links(apps: Any, schema_editor: Any) -> None:
    MicrosoftLogin = apps.get_model("signin", "MicrosoftLogin")
    Mailbox = apps.get_model("mailboxes", "Mailbox")
    AuditEvent = apps.get_model("accounts", "AuditEvent")
    for login in list(MicrosoftLogin.objects.select_related("user")):
        chosen = AuditEvent.objects.filter(actor_id=login.user_id, action="signin.linked", target=login.username,
                                           detail__how="linked by the user").exists()
        if chosen:
            continue
        admin = login.user.is_staff or login.user.is_superuser
        if admin or Mailbox.objects.filter(owner_id=login.user_id, ms_tid=login.tid, ms_oid=login.oid).exists():
            login.delete()
            AuditEvent.objects.create(actor_id=login.user_id, action="signin.unlinked", target=login.username,
                                      detail={"how": REASON})
        else:
            MicrosoftLogin.objects.filter(pk=login.pk).update(origin="domain")


class Migration(migrations.Migration):
    dependencies = [
        ("signin", "0002_unlinks_and_link_origin"),
        ("accounts", "0001_initial"),
        ("mailboxes", "0002_folder_unread_count"),
    ]

    operations = [migrations.RunPython(forget_implied_links, migrations.RunPython.noop)]
