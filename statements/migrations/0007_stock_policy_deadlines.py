from django.db import migrations

# The golden hour leaves no room for a sign-off nobody chases: the first step of each stock
# policy waits 10 minutes before its roster backups and the lead are alerted.
FIRST_STEP_MINUTES = 10
STOCK = ("One approver", "Legal, then communications", "Communications only")
# The playbooks name this one; created here like migration 0002 creates the other two (and
# the same way incidents/playbooks/defaults.py would), so that it has its deadline too.
COMMUNICATIONS_ONLY = {
    "description": (
        "One approver with the communications function (usually the communications "
        "director) signs off. For incidents where speed matters more than legal review."
    ),
    "mode": "all",
}


def set_deadlines(apps, schema_editor):
    Policy = apps.get_model("statements", "ApprovalPolicy")
    Requirement = apps.get_model("statements", "ApprovalRequirement")
    policy, created = Policy.objects.get_or_create(
        name="Communications only", defaults=COMMUNICATIONS_ONLY
    )
    if created:
        Requirement.objects.create(policy=policy, step=1, function="communications")
    for policy in Policy.objects.filter(name__in=STOCK):
        first = policy.requirements.order_by("step").values_list("step", flat=True).first()
        # Only where nobody chose a deadline yet: an administrator's choice stands.
        policy.requirements.filter(step=first, deadline_minutes__isnull=True).update(
            deadline_minutes=FIRST_STEP_MINUTES
        )


class Migration(migrations.Migration):
    dependencies = [("statements", "0006_approval_deadlines_and_escalations")]

    operations = [migrations.RunPython(set_deadlines, migrations.RunPython.noop)]
