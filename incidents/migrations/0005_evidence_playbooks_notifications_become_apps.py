"""Evidence, playbooks and notifications leave the incidents app for apps of their own
(`evidence`, `playbooks`, `notifications`). No data moves: their models keep today's table
names (Meta.db_table) and the new apps' first migrations only take them into their state.

What the database does see here:
- the bell's notifications stop pointing at tasks: each keeps what it is about (`subject`,
  the task's title) and where to act (`url`), so any app can produce one;
- the evidence triggers are dropped, to be installed again at once by the evidence app's
  first migration under the trigger names of their new app label (django-pgtrigger names a
  trigger after its app and model).
"""

import django.db.models.deletion
import pgtrigger.migrations
from django.db import migrations, models


def forget_notifications(apps, schema_editor):
    """Going back to notifications that must point at a task: the bell's items are
    working state, not a record, so they are dropped rather than left unmatched."""
    apps.get_model("incidents", "Notification").objects.all().delete()


def describe_notifications(apps, schema_editor):
    Notification = apps.get_model("incidents", "Notification")
    for note in Notification.objects.select_related("task").iterator():
        note.subject = note.task.title[:200]
        note.url = f"/incidents/{note.incident_id}/#task-{note.task_id}"
        note.save(update_fields=["subject", "url"])


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0004_playbooks_and_tasks'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='subject',
            field=models.CharField(blank=True, default='', max_length=200, verbose_name='about'),
        ),
        migrations.AddField(
            model_name='notification',
            name='url',
            field=models.CharField(blank=True, default='', max_length=500, verbose_name='link'),
        ),
        migrations.RunPython(describe_notifications, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(
            model_name='notification',
            name='task',
        ),
        migrations.AlterField(
            model_name='notification',
            name='incident',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.incident'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('due_soon', 'Due in 5 minutes'), ('overdue', 'Overdue')], max_length=32, verbose_name='kind'),
        ),
        # Runs first when migrating back (before `task` returns, required, to the table).
        migrations.RunPython(migrations.RunPython.noop, forget_notifications, elidable=False),
        pgtrigger.migrations.RemoveTrigger(model_name='evidenceitem', name='evidence_never_deleted'),
        pgtrigger.migrations.RemoveTrigger(model_name='evidenceitem', name='evidence_facts_immutable'),
        pgtrigger.migrations.RemoveTrigger(model_name='custodyevent', name='custody_append_only'),
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.RemoveField(
                model_name='capturejob',
                name='incident',
            ),
            migrations.RemoveField(
                model_name='capturejob',
                name='requested_by',
            ),
            migrations.RemoveField(
                model_name='evidenceitem',
                name='capture',
            ),
            migrations.RemoveField(
                model_name='contact',
                name='playbook',
            ),
            migrations.RemoveField(
                model_name='custodyevent',
                name='actor',
            ),
            migrations.RemoveField(
                model_name='custodyevent',
                name='item',
            ),
            migrations.RemoveField(
                model_name='evidenceitem',
                name='captured_by',
            ),
            migrations.RemoveField(
                model_name='evidenceitem',
                name='incident',
            ),
            migrations.RemoveField(
                model_name='incidentcontact',
                name='incident',
            ),
            migrations.RemoveField(
                model_name='incidenttemplate',
                name='incident',
            ),
            migrations.RemoveField(
                model_name='notification',
                name='incident',
            ),
            migrations.RemoveField(
                model_name='notification',
                name='user',
            ),
            migrations.RemoveField(
                model_name='statementtemplate',
                name='playbook',
            ),
            migrations.RemoveField(
                model_name='playbookpolicy',
                name='playbook',
            ),
            migrations.RemoveField(
                model_name='playbookstep',
                name='playbook',
            ),
            migrations.RemoveField(
                model_name='playbookpolicy',
                name='policy',
            ),
            migrations.RemoveField(
                model_name='task',
                name='assignee',
            ),
            migrations.RemoveField(
                model_name='task',
                name='completed_by',
            ),
            migrations.RemoveField(
                model_name='task',
                name='incident',
            ),
            migrations.RemoveField(
                model_name='taskreminder',
                name='task',
            ),
            migrations.DeleteModel(
                name='AppliedPlaybook',
            ),
            migrations.DeleteModel(
                name='CaptureJob',
            ),
            migrations.DeleteModel(
                name='Contact',
            ),
            migrations.DeleteModel(
                name='CustodyEvent',
            ),
            migrations.DeleteModel(
                name='EvidenceItem',
            ),
            migrations.DeleteModel(
                name='IncidentContact',
            ),
            migrations.DeleteModel(
                name='IncidentTemplate',
            ),
            migrations.DeleteModel(
                name='Notification',
            ),
            migrations.DeleteModel(
                name='StatementTemplate',
            ),
            migrations.DeleteModel(
                name='Playbook',
            ),
            migrations.DeleteModel(
                name='PlaybookStep',
            ),
            migrations.DeleteModel(
                name='PlaybookPolicy',
            ),
            migrations.DeleteModel(
                name='Task',
            ),
            migrations.DeleteModel(
                name='TaskReminder',
            )
            ],
            database_operations=[],
        ),
    ]
