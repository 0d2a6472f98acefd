from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.models import Category

from .models import Playbook


class PlaybookChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, playbook):
        categories = ", ".join(str(Category(c).label) for c in playbook.categories) or _(
            "any category"
        )
        severities = f"{playbook.min_severity}-{playbook.max_severity}"
        return _("%(name)s — %(categories)s, severity %(severities)s") % {
            "name": playbook.name,
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
