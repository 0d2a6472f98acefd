from django.db import migrations, models


def mark_linked(apps, schema_editor):
    """Signals linked before the field existed: their link wrote a key event whose data
    says `linked` and names the signal (actions._join)."""
    Signal = apps.get_model("listening", "Signal")
    TimelineEntry = apps.get_model("incidents", "TimelineEntry")
    named = TimelineEntry.objects.filter(kind="key_event", data__linked=True).values_list(
        "data__signal", flat=True
    )
    ids = [pk for pk in named if isinstance(pk, int)]
    Signal.objects.filter(pk__in=ids, incident__isnull=False).update(linked=True)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_freeze_entry_kinds"),
        ("listening", "0003_expected_burst_size"),
    ]

    operations = [
        migrations.AddField(
            model_name="signal",
            name="linked",
            field=models.BooleanField(
                default=False, verbose_name="linked to an incident already declared"
            ),
        ),
        migrations.RunPython(mark_linked, migrations.RunPython.noop),
    ]
