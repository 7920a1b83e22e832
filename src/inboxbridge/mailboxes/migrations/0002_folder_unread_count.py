from django.db import migrations, models
from django.db.models import Count


def count_unread(apps, schema_editor):
    """The folders' unread counts as they stand; from here on syncs and clicks keep them."""
    Folder = apps.get_model("mailboxes", "Folder")
    Placement = apps.get_model("mail", "Placement")
    counts = Placement.objects.filter(email__is_seen=False).values_list("folder_id").annotate(n=Count("id"))
    for folder_id, n in counts:
        Folder.objects.filter(pk=folder_id).update(unread_count=n)


class Migration(migrations.Migration):

    dependencies = [
        ("mail", "0005_flagged_index"),
        ("mailboxes", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="folder",
            name="unread_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(count_unread, migrations.RunPython.noop),
    ]
