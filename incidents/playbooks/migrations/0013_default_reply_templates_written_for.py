"""An installation from before reply templates said whom they answer (0012): the default
playbooks' reply templates, and their copies in the incidents that follow those playbooks,
get the author type their files now give them (ensure_default_playbooks leaves an existing
playbook as it is). Matched by playbook and template name, and only where the template is
a reply still written for anyone: an editor's choice is kept."""

from django.db import migrations

DEFAULT_PLAYBOOKS = (
    "Publication inappropriée de la marque / Inappropriate post by the brand",
    "Défaut produit, vague de réclamations / Product defect, complaint wave",
    "Rumeur, fausse information, diffamation / Rumour, fake news and defamation",
)
WRITTEN_FOR = {
    "Réponse à un client mécontent (X)": "unhappy_customer",
    "Reply to an unhappy customer (X)": "unhappy_customer",
    "Réponse pré-approuvable à un client mécontent (Mastodon)": "unhappy_customer",
    "Pre-approvable reply to an unhappy customer (Mastodon)": "unhappy_customer",
    "Réponse pré-approuvable à un client choqué (Mastodon)": "unhappy_customer",
    "Pre-approvable reply to a shocked customer (Mastodon)": "unhappy_customer",
    "Réponse à une personne inquiète (X)": "unhappy_customer",
    "Reply to a worried customer (X)": "unhappy_customer",
    "Réponse calme à un hater (Facebook)": "hater_occasional",
    "Calm reply to a hater (Facebook)": "hater_occasional",
    "Réponse calme à un hater (X)": "hater_occasional",
    "Calm reply to a hater (X)": "hater_occasional",
}


def forwards(apps, schema_editor):
    StatementTemplate = apps.get_model("playbooks", "StatementTemplate")
    IncidentTemplate = apps.get_model("playbooks", "IncidentTemplate")
    AppliedPlaybook = apps.get_model("playbooks", "AppliedPlaybook")
    following = AppliedPlaybook.objects.filter(name__in=DEFAULT_PLAYBOOKS).values("incident_id")
    for name, author_type in WRITTEN_FOR.items():
        StatementTemplate.objects.filter(
            playbook__name__in=DEFAULT_PLAYBOOKS, name=name, kind="reply", author_type=""
        ).update(author_type=author_type)
        IncidentTemplate.objects.filter(
            incident_id__in=following, name=name, kind="reply", author_type=""
        ).update(author_type=author_type)


class Migration(migrations.Migration):
    dependencies = [("playbooks", "0012_template_written_for")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
