"""The approval policy a playbook chose for an incident now belongs to statements
(`statements.IncidentPolicy`, written by the `incident_policy_set` action): statements no
longer ask playbooks which policy applies. Copied over, then dropped here."""

from django.db import migrations


def copy_policies(apps, schema_editor):
    AppliedPlaybook = apps.get_model("playbooks", "AppliedPlaybook")
    IncidentPolicy = apps.get_model("statements", "IncidentPolicy")
    IncidentPolicy.objects.bulk_create(
        IncidentPolicy(
            incident_id=applied.incident_id,
            policy_id=applied.approval_policy_id,
            set_at=applied.applied_at,
            set_by_id=applied.applied_by_id,
        )
        for applied in AppliedPlaybook.objects.exclude(approval_policy=None)
    )


def copy_back(apps, schema_editor):
    AppliedPlaybook = apps.get_model("playbooks", "AppliedPlaybook")
    IncidentPolicy = apps.get_model("statements", "IncidentPolicy")
    for chosen in IncidentPolicy.objects.all():
        AppliedPlaybook.objects.filter(incident_id=chosen.incident_id).update(
            approval_policy_id=chosen.policy_id
        )


class Migration(migrations.Migration):
    dependencies = [
        ("playbooks", "0001_initial"),
        ("statements", "0004_incidentpolicy"),
    ]

    operations = [
        migrations.RunPython(copy_policies, copy_back),
        migrations.RemoveField(model_name="appliedplaybook", name="approval_policy"),
    ]
