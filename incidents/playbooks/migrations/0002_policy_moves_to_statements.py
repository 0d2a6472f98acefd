"""The approval policy a playbook chose for an incident now belongs to statements
(`statements.IncidentPolicy`, written by the `incident_policy_set` action): statements no
longer ask playbooks which policy applies. Copied over, then dropped here."""

from django.db import migrations


def copy_policies(apps, schema_editor):
    AppliedPlaybook = apps.get_model("playbooks", "AppliedPlaybook")
    IncidentPolicy = apps.get_model("statements", "IncidentPolicy")
    chosen = set(IncidentPolicy.objects.values_list("incident_id", flat=True))
    IncidentPolicy.objects.bulk_create(
        IncidentPolicy(
            incident_id=applied.incident_id,
            policy_id=applied.approval_policy_id,
            set_at=applied.applied_at,
            set_by_id=applied.applied_by_id,
        )
        for applied in AppliedPlaybook.objects.exclude(approval_policy=None)
        if applied.incident_id not in chosen
    )


def copy_back(apps, schema_editor):
    AppliedPlaybook = apps.get_model("playbooks", "AppliedPlaybook")
    IncidentPolicy = apps.get_model("statements", "IncidentPolicy")
    for chosen in IncidentPolicy.objects.all():
        AppliedPlaybook.objects.filter(incident_id=chosen.incident_id).update(
            approval_policy_id=chosen.policy_id
        )
    # Back to where playbooks held the choice: statements' copies go, so that migrating
    # forward again copies them once.
    IncidentPolicy.objects.filter(
        incident_id__in=AppliedPlaybook.objects.values("incident_id")
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("playbooks", "0001_initial"),
        ("statements", "0004_incidentpolicy"),
    ]

    operations = [
        migrations.RunPython(copy_policies, copy_back),
        migrations.RemoveField(model_name="appliedplaybook", name="approval_policy"),
    ]
