from django.db import migrations


def create_policies(apps, schema_editor):
    Policy = apps.get_model("statements", "ApprovalPolicy")
    Requirement = apps.get_model("statements", "ApprovalRequirement")
    default, created = Policy.objects.get_or_create(
        name="One approver",
        defaults={
            "description": "Any approver of the cell other than the author signs off.",
            "mode": "all",
            "is_default": not Policy.objects.filter(is_default=True).exists(),
        },
    )
    if created:
        Requirement.objects.create(policy=default, step=1, function="")
    ordered, created = Policy.objects.get_or_create(
        name="Legal, then communications",
        defaults={
            "description": "Legal approves first; then the communications director.",
            "mode": "all",
        },
    )
    if created:
        Requirement.objects.create(policy=ordered, step=1, function="legal")
        Requirement.objects.create(policy=ordered, step=2, function="communications")


class Migration(migrations.Migration):
    dependencies = [("statements", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
