"""The playbooks models, taken over from the incidents app (incidents 0005) with their tables
as they are (Meta.db_table): only Django's state changes here. Their content types follow,
so permissions and admin history stay attached."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def adopt_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="incidents", model__in=MOVED).update(app_label="playbooks")


def return_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="playbooks", model__in=MOVED).update(app_label="incidents")


MOVED = ['incidentcontact', 'incidenttemplate', 'playbook', 'contact', 'appliedplaybook', 'playbookstep', 'statementtemplate', 'task', 'taskreminder', 'playbookpolicy']


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('incidents', '0005_evidence_playbooks_notifications_become_apps'),
        ('statements', '0004_incidentpolicy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                    migrations.CreateModel(
                        name='IncidentContact',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('kind', models.CharField(choices=[('committee', 'Crisis committee'), ('stakeholder', 'Stakeholder'), ('ambassador', 'Ambassador / influencer')], max_length=16, verbose_name='kind')),
                            ('name', models.CharField(max_length=150, verbose_name='name')),
                            ('role_title', models.CharField(blank=True, max_length=150, verbose_name='role or organisation')),
                            ('phone', models.CharField(blank=True, max_length=40, verbose_name='phone')),
                            ('email', models.EmailField(blank=True, max_length=254, verbose_name='email')),
                            ('backup', models.CharField(blank=True, max_length=150, verbose_name='backup')),
                            ('handle', models.CharField(blank=True, max_length=150, verbose_name='handle')),
                            ('platform', models.CharField(blank=True, choices=[('x', 'X / Twitter'), ('facebook', 'Facebook'), ('instagram', 'Instagram'), ('linkedin', 'LinkedIn'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('press', 'Press'), ('forum', 'Forum'), ('other', 'Other')], max_length=16, verbose_name='platform')),
                            ('audience', models.PositiveBigIntegerField(blank=True, null=True, verbose_name='audience size')),
                            ('language', models.CharField(blank=True, choices=[('fr', 'French'), ('en', 'English'), ('de', 'German'), ('es', 'Spanish'), ('it', 'Italian'), ('nl', 'Dutch')], max_length=2, verbose_name='language')),
                            ('notes', models.TextField(blank=True, verbose_name='notes')),
                            ('order', models.PositiveIntegerField(default=0)),
                            ('briefed_at', models.DateTimeField(blank=True, null=True, verbose_name='briefed at')),
                            ('thanked_at', models.DateTimeField(blank=True, null=True, verbose_name='thanked at')),
                            ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='incidents.incident')),
                        ],
                        options={
                            'verbose_name': 'incident contact',
                            'verbose_name_plural': 'incident contacts',
                            'db_table': 'incidents_incidentcontact',
                            'ordering': ['incident', 'kind', 'order', 'id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='IncidentTemplate',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('order', models.PositiveIntegerField(default=0)),
                            ('name', models.CharField(max_length=150, verbose_name='name')),
                            ('kind', models.CharField(choices=[('holding', 'Holding statement'), ('apology', 'Apology'), ('update', 'Update'), ('correction', 'Correction'), ('reply', 'Individual reply'), ('faq', 'FAQ answer'), ('briefing', 'Internal briefing')], max_length=16, verbose_name='kind')),
                            ('channel', models.CharField(choices=[('x', 'X / Twitter'), ('facebook', 'Facebook'), ('instagram', 'Instagram'), ('linkedin', 'LinkedIn'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('press_release', 'Press release'), ('crisis_center', 'Crisis center page'), ('email', 'Email')], max_length=16, verbose_name='channel')),
                            ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English'), ('de', 'German'), ('es', 'Spanish'), ('it', 'Italian'), ('nl', 'Dutch')], max_length=2, verbose_name='language')),
                            ('text', models.TextField(verbose_name='text')),
                            ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='templates', to='incidents.incident')),
                        ],
                        options={
                            'verbose_name': 'incident statement template',
                            'verbose_name_plural': 'incident statement templates',
                            'db_table': 'incidents_incidenttemplate',
                            'ordering': ['incident', 'order', 'id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='Playbook',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('name', models.CharField(max_length=150, unique=True, verbose_name='name')),
                            ('description', models.TextField(blank=True, verbose_name='description')),
                            ('categories', models.JSONField(blank=True, default=list, help_text='Empty: suits every category.', verbose_name='incident categories')),
                            ('min_severity', models.PositiveSmallIntegerField(choices=[(1, 'Low — contained'), (2, 'Moderate — spreading'), (3, 'High — viral'), (4, 'Critical — major threat')], default=1, verbose_name='from severity')),
                            ('max_severity', models.PositiveSmallIntegerField(choices=[(1, 'Low — contained'), (2, 'Moderate — spreading'), (3, 'High — viral'), (4, 'Critical — major threat')], default=4, verbose_name='to severity')),
                            ('brand', models.CharField(blank=True, help_text='The {{ brand }} of the templates.', max_length=120, verbose_name='brand')),
                            ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                            ('last_reviewed_on', models.DateField(blank=True, null=True, verbose_name='last reviewed on')),
                            ('is_active', models.BooleanField(default=True, verbose_name='active')),
                            ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ],
                        options={
                            'verbose_name': 'playbook',
                            'verbose_name_plural': 'playbooks',
                            'db_table': 'incidents_playbook',
                            'ordering': ['name'],
                            'constraints': [models.CheckConstraint(condition=models.Q(('min_severity__lte', models.F('max_severity'))), name='playbook_severity_range')],
                        },
                    ),
                    migrations.CreateModel(
                        name='Contact',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('kind', models.CharField(choices=[('committee', 'Crisis committee'), ('stakeholder', 'Stakeholder'), ('ambassador', 'Ambassador / influencer')], max_length=16, verbose_name='kind')),
                            ('name', models.CharField(max_length=150, verbose_name='name')),
                            ('role_title', models.CharField(blank=True, max_length=150, verbose_name='role or organisation')),
                            ('phone', models.CharField(blank=True, max_length=40, verbose_name='phone')),
                            ('email', models.EmailField(blank=True, max_length=254, verbose_name='email')),
                            ('backup', models.CharField(blank=True, max_length=150, verbose_name='backup')),
                            ('handle', models.CharField(blank=True, max_length=150, verbose_name='handle')),
                            ('platform', models.CharField(blank=True, choices=[('x', 'X / Twitter'), ('facebook', 'Facebook'), ('instagram', 'Instagram'), ('linkedin', 'LinkedIn'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('press', 'Press'), ('forum', 'Forum'), ('other', 'Other')], max_length=16, verbose_name='platform')),
                            ('audience', models.PositiveBigIntegerField(blank=True, null=True, verbose_name='audience size')),
                            ('language', models.CharField(blank=True, choices=[('fr', 'French'), ('en', 'English'), ('de', 'German'), ('es', 'Spanish'), ('it', 'Italian'), ('nl', 'Dutch')], max_length=2, verbose_name='language')),
                            ('notes', models.TextField(blank=True, verbose_name='notes')),
                            ('order', models.PositiveIntegerField(default=0, verbose_name='order')),
                            ('playbook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contacts', to='playbooks.playbook')),
                        ],
                        options={
                            'verbose_name': 'contact',
                            'verbose_name_plural': 'contacts',
                            'db_table': 'incidents_contact',
                            'ordering': ['playbook', 'kind', 'order', 'id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='AppliedPlaybook',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('name', models.CharField(max_length=150, verbose_name='playbook')),
                            ('version', models.PositiveIntegerField(verbose_name='version')),
                            ('brand', models.CharField(blank=True, max_length=120, verbose_name='brand')),
                            ('applied_at', models.DateTimeField(verbose_name='applied at')),
                            ('approval_policy', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='statements.approvalpolicy')),
                            ('applied_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                            ('incident', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='applied_playbook', to='incidents.incident')),
                            ('playbook', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='playbooks.playbook')),
                        ],
                        options={
                            'verbose_name': 'applied playbook',
                            'verbose_name_plural': 'applied playbooks',
                            'db_table': 'incidents_appliedplaybook',
                        },
                    ),
                    migrations.CreateModel(
                        name='PlaybookStep',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('order', models.PositiveIntegerField(default=0, verbose_name='order')),
                            ('title', models.CharField(max_length=200, verbose_name='title')),
                            ('guidance', models.TextField(blank=True, verbose_name='guidance (Markdown)')),
                            ('role', models.CharField(choices=[('lead', 'Lead'), ('drafter', 'Drafter (community manager)'), ('approver', 'Approver (legal, communications)'), ('spokesperson', 'Spokesperson')], max_length=16, verbose_name='role responsible')),
                            ('due_minutes', models.PositiveIntegerField(help_text='e.g. 15, 60, 180', verbose_name='due, minutes after declaration')),
                            ('repeat_minutes', models.PositiveIntegerField(blank=True, help_text='For a cadence such as regular updates, while the incident is open.', null=True, verbose_name='then repeat every (minutes)')),
                            ('playbook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='playbooks.playbook')),
                        ],
                        options={
                            'verbose_name': 'checklist step',
                            'verbose_name_plural': 'checklist steps',
                            'db_table': 'incidents_playbookstep',
                            'ordering': ['playbook', 'order', 'id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='StatementTemplate',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('order', models.PositiveIntegerField(default=0, verbose_name='order')),
                            ('name', models.CharField(max_length=150, verbose_name='name')),
                            ('kind', models.CharField(choices=[('holding', 'Holding statement'), ('apology', 'Apology'), ('update', 'Update'), ('correction', 'Correction'), ('reply', 'Individual reply'), ('faq', 'FAQ answer'), ('briefing', 'Internal briefing')], max_length=16, verbose_name='kind')),
                            ('channel', models.CharField(choices=[('x', 'X / Twitter'), ('facebook', 'Facebook'), ('instagram', 'Instagram'), ('linkedin', 'LinkedIn'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('press_release', 'Press release'), ('crisis_center', 'Crisis center page'), ('email', 'Email')], max_length=16, verbose_name='channel')),
                            ('language', models.CharField(choices=[('fr', 'French'), ('en', 'English'), ('de', 'German'), ('es', 'Spanish'), ('it', 'Italian'), ('nl', 'Dutch')], max_length=2, verbose_name='language')),
                            ('text', models.TextField(help_text='Placeholders: {{ incident.title }}, {{ brand }}, {{ next_update_at }}, {{ declared_at }}, {{ platforms }}.', verbose_name='text')),
                            ('playbook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='templates', to='playbooks.playbook')),
                        ],
                        options={
                            'verbose_name': 'statement template',
                            'verbose_name_plural': 'statement templates',
                            'db_table': 'incidents_statementtemplate',
                            'ordering': ['playbook', 'order', 'id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='Task',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('order', models.PositiveIntegerField(default=0)),
                            ('title', models.CharField(max_length=200, verbose_name='title')),
                            ('guidance', models.TextField(blank=True, verbose_name='guidance')),
                            ('role', models.CharField(choices=[('lead', 'Lead'), ('drafter', 'Drafter (community manager)'), ('approver', 'Approver (legal, communications)'), ('spokesperson', 'Spokesperson')], max_length=16, verbose_name='role responsible')),
                            ('due_at', models.DateTimeField(verbose_name='due at')),
                            ('repeat_minutes', models.PositiveIntegerField(blank=True, null=True, verbose_name='repeats every (minutes)')),
                            ('occurrence', models.PositiveIntegerField(default=1, verbose_name='occurrence')),
                            ('status', models.CharField(choices=[('open', 'Open'), ('done', 'Done')], default='open', max_length=8, verbose_name='status')),
                            ('completed_at', models.DateTimeField(blank=True, null=True, verbose_name='completed at')),
                            ('note', models.TextField(blank=True, verbose_name='completion note')),
                            ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                            ('completed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                            ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='tasks', to='incidents.incident')),
                        ],
                        options={
                            'verbose_name': 'task',
                            'verbose_name_plural': 'tasks',
                            'db_table': 'incidents_task',
                            'ordering': ['incident', 'due_at', 'order', 'id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='TaskReminder',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('kind', models.CharField(choices=[('due_soon', 'Due in 5 minutes'), ('overdue', 'Overdue')], max_length=16)),
                            ('sent_at', models.DateTimeField()),
                            ('task', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to='playbooks.task')),
                        ],
                        options={
                            'db_table': 'incidents_taskreminder',
                        },
                    ),
                    migrations.CreateModel(
                        name='PlaybookPolicy',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('severity', models.PositiveSmallIntegerField(choices=[(1, 'Low — contained'), (2, 'Moderate — spreading'), (3, 'High — viral'), (4, 'Critical — major threat')], verbose_name='severity')),
                            ('playbook', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='policies', to='playbooks.playbook')),
                            ('policy', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='statements.approvalpolicy')),
                        ],
                        options={
                            'verbose_name': 'approval policy by severity',
                            'verbose_name_plural': 'approval policies by severity',
                            'db_table': 'incidents_playbookpolicy',
                            'ordering': ['playbook', 'severity'],
                            'constraints': [models.UniqueConstraint(fields=('playbook', 'severity'), name='one_policy_per_playbook_severity')],
                        },
                    ),
                    migrations.AddIndex(
                        model_name='task',
                        index=models.Index(fields=['status', 'due_at'], name='incidents_t_status_874d87_idx'),
                    ),
                    migrations.AddConstraint(
                        model_name='taskreminder',
                        constraint=models.UniqueConstraint(fields=('task', 'kind'), name='one_reminder_per_threshold'),
                    ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(adopt_content_types, return_content_types),
    ]
