"""The evidence models, taken over from the incidents app (incidents 0005) with their tables
as they are (Meta.db_table): only Django's state changes here. Their content types follow,
so permissions and admin history stay attached."""

import django.db.models.deletion
import incidents.evidence.models
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


def adopt_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="incidents", model__in=MOVED).update(app_label="evidence")


def return_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="evidence", model__in=MOVED).update(app_label="incidents")


MOVED = ['capturejob', 'evidenceitem', 'custodyevent']


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
                        name='CaptureJob',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('url', models.URLField(max_length=2000, verbose_name='URL')),
                            ('kind', models.CharField(choices=[('post', 'Post'), ('profile', "Author's profile"), ('comment_thread', 'Comment thread'), ('article', 'Article'), ('other', 'Other')], max_length=16, verbose_name='kind')),
                            ('platform', models.CharField(blank=True, choices=[('x', 'X / Twitter'), ('facebook', 'Facebook'), ('instagram', 'Instagram'), ('linkedin', 'LinkedIn'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('press', 'Press'), ('forum', 'Forum'), ('other', 'Other')], max_length=16, verbose_name='platform')),
                            ('description', models.TextField(blank=True, verbose_name='description')),
                            ('requested_at', models.DateTimeField(verbose_name='requested at')),
                            ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=16, verbose_name='status')),
                            ('stage', models.CharField(blank=True, choices=[('opening', 'Opening the page'), ('screenshot', 'Taking a full-page screenshot'), ('archiving', 'Saving the page archive'), ('storing', 'Hashing and storing')], max_length=16, verbose_name='stage')),
                            ('error', models.CharField(blank=True, max_length=500, verbose_name='reason of failure')),
                            ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                            ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='captures', to='incidents.incident')),
                            ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ],
                        options={
                            'verbose_name': 'URL capture',
                            'verbose_name_plural': 'URL captures',
                            'db_table': 'incidents_capturejob',
                            'ordering': ['-requested_at', '-id'],
                        },
                    ),
                    migrations.CreateModel(
                        name='EvidenceItem',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('number', models.PositiveIntegerField(verbose_name='exhibit number')),
                            ('kind', models.CharField(choices=[('post', 'Post'), ('profile', "Author's profile"), ('comment_thread', 'Comment thread'), ('article', 'Article'), ('other', 'Other')], max_length=16, verbose_name='kind')),
                            ('source', models.CharField(choices=[('upload', 'Uploaded by a member'), ('capture', 'Captured by the server')], max_length=16, verbose_name='source')),
                            ('file', models.FileField(max_length=255, upload_to=incidents.evidence.models.original_path, verbose_name='original file')),
                            ('original_name', models.CharField(blank=True, max_length=255, verbose_name='name as received')),
                            ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                            ('size', models.PositiveBigIntegerField(verbose_name='size in bytes')),
                            ('content_type', models.CharField(max_length=64, verbose_name='content type (detected)')),
                            ('width', models.PositiveIntegerField(blank=True, null=True, verbose_name='width in pixels')),
                            ('height', models.PositiveIntegerField(blank=True, null=True, verbose_name='height in pixels')),
                            ('platform', models.CharField(blank=True, choices=[('x', 'X / Twitter'), ('facebook', 'Facebook'), ('instagram', 'Instagram'), ('linkedin', 'LinkedIn'), ('tiktok', 'TikTok'), ('youtube', 'YouTube'), ('press', 'Press'), ('forum', 'Forum'), ('other', 'Other')], max_length=16, verbose_name='platform')),
                            ('source_url', models.URLField(blank=True, max_length=2000, verbose_name='source URL')),
                            ('published_at', models.DateTimeField(blank=True, null=True, verbose_name='published at (as seen)')),
                            ('author_handle', models.CharField(blank=True, max_length=200, verbose_name="author's handle")),
                            ('author_name', models.CharField(blank=True, max_length=200, verbose_name="author's display name")),
                            ('author_profile_url', models.URLField(blank=True, max_length=2000, verbose_name="author's profile URL")),
                            ('author_followers', models.PositiveBigIntegerField(blank=True, null=True, verbose_name="author's followers")),
                            ('author_facts', models.TextField(blank=True, verbose_name='other facts about the author')),
                            ('description', models.TextField(blank=True, verbose_name='description')),
                            ('final_url', models.URLField(blank=True, max_length=2000, verbose_name='final URL')),
                            ('http_status', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='HTTP status')),
                            ('page_title', models.CharField(blank=True, max_length=500, verbose_name='page title')),
                            ('captured_at', models.DateTimeField(verbose_name='captured at')),
                            ('display_status', models.CharField(choices=[('pending', 'Being prepared'), ('ready', 'Ready'), ('none', 'No preview for this type'), ('failed', 'Preview failed')], default='pending', max_length=16, verbose_name='display copies')),
                            ('thumbnail', models.FileField(blank=True, max_length=255, upload_to=incidents.evidence.models.display_path)),
                            ('preview', models.FileField(blank=True, max_length=255, upload_to=incidents.evidence.models.display_path)),
                            ('capture', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='items', to='evidence.capturejob')),
                            ('captured_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                            ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='evidence', to='incidents.incident')),
                        ],
                        options={
                            'verbose_name': 'evidence item',
                            'verbose_name_plural': 'evidence items',
                            'db_table': 'incidents_evidenceitem',
                            'ordering': ['incident', 'number'],
                        },
                    ),
                    migrations.CreateModel(
                        name='CustodyEvent',
                        fields=[
                            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                            ('seq', models.PositiveIntegerField()),
                            ('action', models.CharField(choices=[('uploaded', 'Uploaded'), ('captured', 'Captured by the server'), ('viewed', 'Viewed'), ('downloaded', 'Original downloaded'), ('exported', 'Exported in a bundle'), ('verified', 'Integrity verified'), ('verification_failed', 'Integrity check FAILED')], max_length=24, verbose_name='action')),
                            ('at', models.DateTimeField(verbose_name='at')),
                            ('detail', models.JSONField(blank=True, default=dict, verbose_name='detail')),
                            ('prev_hash', models.CharField(max_length=64)),
                            ('hash', models.CharField(max_length=64, unique=True)),
                            ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                            ('item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='custody', to='evidence.evidenceitem')),
                        ],
                        options={
                            'verbose_name': 'custody event',
                            'verbose_name_plural': 'custody events',
                            'db_table': 'incidents_custodyevent',
                            'ordering': ['item', 'seq'],
                        },
                    ),
                    migrations.AddConstraint(
                        model_name='evidenceitem',
                        constraint=models.UniqueConstraint(fields=('incident', 'number'), name='evidence_number_unique'),
                    ),
                    migrations.AddConstraint(
                        model_name='custodyevent',
                        constraint=models.UniqueConstraint(fields=('item', 'seq'), name='custody_seq_unique'),
                    ),
            ],
            database_operations=[],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='evidenceitem',
            trigger=pgtrigger.compiler.Trigger(name='evidence_never_deleted', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='a948cdfbede3e5761faef0879bab35ce0283b9e9', operation='DELETE', pgid='pgtrigger_evidence_never_deleted_bfb96', table='incidents_evidenceitem', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='evidenceitem',
            trigger=pgtrigger.compiler.Trigger(name='evidence_facts_immutable', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD."author_facts" IS DISTINCT FROM (NEW."author_facts") OR OLD."author_followers" IS DISTINCT FROM (NEW."author_followers") OR OLD."author_handle" IS DISTINCT FROM (NEW."author_handle") OR OLD."author_name" IS DISTINCT FROM (NEW."author_name") OR OLD."author_profile_url" IS DISTINCT FROM (NEW."author_profile_url") OR OLD."capture_id" IS DISTINCT FROM (NEW."capture_id") OR OLD."captured_at" IS DISTINCT FROM (NEW."captured_at") OR OLD."captured_by_id" IS DISTINCT FROM (NEW."captured_by_id") OR OLD."content_type" IS DISTINCT FROM (NEW."content_type") OR OLD."description" IS DISTINCT FROM (NEW."description") OR OLD."file" IS DISTINCT FROM (NEW."file") OR OLD."final_url" IS DISTINCT FROM (NEW."final_url") OR OLD."height" IS DISTINCT FROM (NEW."height") OR OLD."http_status" IS DISTINCT FROM (NEW."http_status") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."incident_id" IS DISTINCT FROM (NEW."incident_id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."original_name" IS DISTINCT FROM (NEW."original_name") OR OLD."page_title" IS DISTINCT FROM (NEW."page_title") OR OLD."platform" IS DISTINCT FROM (NEW."platform") OR OLD."published_at" IS DISTINCT FROM (NEW."published_at") OR OLD."sha256" IS DISTINCT FROM (NEW."sha256") OR OLD."size" IS DISTINCT FROM (NEW."size") OR OLD."source" IS DISTINCT FROM (NEW."source") OR OLD."source_url" IS DISTINCT FROM (NEW."source_url") OR OLD."width" IS DISTINCT FROM (NEW."width"))', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='6bb9e29f985d8809ea6a27651825e783c2738fe8', operation='UPDATE', pgid='pgtrigger_evidence_facts_immutable_82a1d', table='incidents_evidenceitem', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='custodyevent',
            trigger=pgtrigger.compiler.Trigger(name='custody_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='482438be380b9340851e531085d21e06c77cb2b6', operation='UPDATE OR DELETE', pgid='pgtrigger_custody_append_only_740cb', table='incidents_custodyevent', when='BEFORE')),
        ),
        migrations.RunPython(adopt_content_types, return_content_types),
    ]
