"""The notifications models, taken over from the incidents app (incidents 0005) with their tables
as they are (Meta.db_table): only Django's state changes here. Their content types follow,
so permissions and admin history stay attached."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def adopt_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="incidents", model__in=MOVED).update(app_label="notifications")


def return_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="notifications", model__in=MOVED).update(app_label="incidents")


MOVED = ['notification']


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('incidents', '0005_evidence_playbooks_notifications_become_apps'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                    migrations.CreateModel(
                        name='Notification',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('kind', models.CharField(choices=[('due_soon', 'Due in 5 minutes'), ('overdue', 'Overdue')], max_length=32, verbose_name='kind')),
                            ('subject', models.CharField(blank=True, max_length=200, verbose_name='about')),
                            ('url', models.CharField(blank=True, max_length=500, verbose_name='link')),
                            ('created_at', models.DateTimeField(verbose_name='created at')),
                            ('read_at', models.DateTimeField(blank=True, null=True, verbose_name='read at')),
                            ('incident', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.incident')),
                            ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                        ],
                        options={
                            'verbose_name': 'notification',
                            'verbose_name_plural': 'notifications',
                            'db_table': 'incidents_notification',
                            'ordering': ['-created_at', '-id'],
                            'indexes': [models.Index(fields=['user', 'read_at'], name='incidents_n_user_id_74a2bc_idx')],
                        },
                    ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(adopt_content_types, return_content_types),
    ]
