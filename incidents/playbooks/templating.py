"""Statement templates: plain text with a few named placeholders, nothing else.

Not Django's template language: a template is written by a playbook editor and its output
is a public statement, so it may only name the whitelisted values below. There is no
attribute access, no filter, no tag, and values are inserted once (a title containing
"{{ brand }}" stays as typed). The output is plain text; pages escape it when they show it.
"""

import re

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from incidents.errors import InvalidInput

PLACEHOLDER = re.compile(r"{{\s*([^{}]*?)\s*}}")
PLACEHOLDERS = {
    "incident.title": "the incident's title",
    "brand": "the playbook's brand name",
    "next_update_at": "time of the next scheduled update",
    "declared_at": "time the incident was declared",
    "platforms": "platforms concerned",
}


def check_template(text: str) -> None:
    """Raise InvalidInput naming the first placeholder or construct that is not allowed."""
    if "{%" in text or "{#" in text:
        raise InvalidInput(_("Templates hold text and {{ placeholders }} only, no {% tags %}."))
    for name in PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise InvalidInput(
                _("Unknown placeholder {{ %(name)s }}. Allowed: %(allowed)s.")
                % {"name": name, "allowed": ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS)}
            )
    leftover = PLACEHOLDER.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        raise InvalidInput(
            _(
                "A placeholder is not closed or not opened: write it {{ brand }}, with two "
                "braces on each side."
            )
        )


def render_template(text: str, values: dict[str, str]) -> str:
    check_template(text)
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _time(moment, language: str) -> str:
    with timezone.override(settings.TIME_ZONE), translation.override(language):
        return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def values_for(incident, *, brand: str, language: str, next_update_at=None) -> dict[str, str]:
    """The values a template may use, formatted for the statement's language."""
    with translation.override(language):
        platforms = ", ".join(str(label) for label in incident.platform_labels)
    return {
        "incident.title": incident.title,
        "brand": brand,
        "next_update_at": _time(next_update_at, language) if next_update_at else "",
        "declared_at": _time(incident.declared_at, language),
        "platforms": platforms,
    }
