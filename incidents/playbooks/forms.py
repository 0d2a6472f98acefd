from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import DeclareIncidentForm
from incidents.models import Category
from incidents.text import own_language

from .models import Playbook


class PlaybookChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, playbook):
        categories = ", ".join(str(Category(c).label) for c in playbook.categories) or _(
            "any category"
        )
        severities = f"{playbook.min_severity}-{playbook.max_severity}"
        return _("%(name)s — %(categories)s, severity %(severities)s") % {
            "name": own_language(playbook.name),
            "categories": categories,
            "severities": severities,
        }


def playbook_field(required=False) -> PlaybookChoiceField:
    return PlaybookChoiceField(
        label=_("Playbook"),
        queryset=Playbook.objects.filter(is_active=True).order_by("name"),
        required=required,
        empty_label=_("No playbook"),
        help_text=_("Its checklist, deadlines, templates and approval policy apply at once."),
    )


class ApplyPlaybookForm(forms.Form):
    playbook = playbook_field(required=True)


class DeclareFromPlaybookForm(DeclareIncidentForm):
    """Declaring, with an optional playbook that suits the category and severity."""

    playbook = playbook_field()

    def clean(self):
        data = super().clean()
        playbook, category = data.get("playbook"), data.get("category")
        if playbook and category and not playbook.suits(category, data.get("severity", 2)):
            self.add_error(
                "playbook", _("This playbook is not meant for this category or severity.")
            )
        return data
