import datetime
import functools
import json
from importlib import import_module

import nh3
from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .. import people, permissions
from ..models import Incident
from ..models import role_label as models_role_label
from ..text import own_language as in_own_language

register = template.Library()


@register.filter
def display_name(user) -> str:
    """The person as every page names them (people.display_name: full name, else
    username); "" for nobody."""
    return people.display_name(user) if user is not None else ""


@register.filter
def initials(user) -> str:
    """An avatar's letters, from the person's name (people.initials): "CL", not the
    username's first letter ("lead" gave Camille Laurent an "L")."""
    return people.initials(user)


@register.filter
def quoted(text) -> str:
    """Someone's words quoted as the active language quotes them: “words” in English,
    « words » in French (the translations' own quotes, so a page never mixes both). The
    words are escaped unless already safe (after `linebreaksbr`); nothing for None."""
    if text is None:
        return ""
    quotes = pgettext("quoting someone's words", "“%(text)s”")
    return mark_safe(quotes % {"text": conditional_escape(text)})  # noqa: S308 (escaped)


@functools.cache
def _enumeration(name: str):
    app_label, enumeration = name.split(".")
    module = import_module(f"{apps.get_app_config(app_label).name}.choices")
    return getattr(module, enumeration)


@register.filter
def placed(messages, place: str = "") -> list:
    """The request's messages said at `place`, their extra tag (a page says a panel's
    refusals at the top of that panel: the room's mentions panel,
    listening.views.PANEL_MESSAGES), or, with none, the others: the top of the page's."""
    return [message for message in messages or () if (message.extra_tags or "") == place]


@register.filter
def label(value, enumeration: str) -> str:
    """The label of a stored choice value, for every app's enumerations:
    `{{ d.role|label:"incidents.Role" }}`, `{{ d.kind|label:"statements.StatementKind" }}`
    ("<app label>.<name in its choices.py>"). A value that is not a choice shows as is."""
    choices = _enumeration(enumeration)
    return choices(value).label if value in choices.values else value


@register.filter
def incident_field_label(name: str) -> str:
    try:
        return Incident._meta.get_field(name).verbose_name
    except FieldDoesNotExist:
        return name


_markdown = None
GUIDANCE_TAGS = {"p", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "blockquote", "br"}


@register.filter
def guidance_html(text: str) -> str:
    """Playbook guidance (Markdown written by editors) as HTML: parsed with raw HTML off,
    then cleaned to a few harmless tags, links only to http(s) and mailto."""
    global _markdown
    if _markdown is None:
        from markdown_it import MarkdownIt

        _markdown = MarkdownIt("commonmark", {"html": False, "breaks": True})
    html = nh3.clean(
        _markdown.render(text or ""),
        tags=GUIDANCE_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(html)  # noqa: S308 -- sanitized just above


@register.filter
def own_language(text) -> str:
    """A bilingual text in the viewer's language (text.own_language)."""
    return in_own_language(text)


@register.simple_tag(takes_context=True)
def tasks_for_viewer(context, tasks) -> dict:
    """The checklist's open tasks (any objects with `role`, `assignee_id`, `due_at`), split
    for the person viewing the room: `mine`, those of their role in the cell or assigned to
    them, and `others`; each in due order. Uses the incident's prefetched cell (no query).
    `{% tasks_for_viewer board.columns as split %}` takes the board's (role, label, tasks)
    columns, or a plain list of tasks."""
    request = context.get("request")
    incident = context.get("incident")
    user = getattr(request, "user", None)
    role = permissions.active_role(user, incident) if user and incident else None
    flat = []
    for item in tasks or ():
        flat.extend(item[2] if isinstance(item, list | tuple) else [item])
    flat.sort(key=lambda task: task.due_at)
    user_id = getattr(user, "pk", None)
    mine = [t for t in flat if (role and t.role == role) or (user_id and t.assignee_id == user_id)]
    return {"mine": mine, "others": [t for t in flat if t not in mine], "role": role}


@register.filter
def ago(value) -> str:
    """`{{ statement.submitted_at|ago }}`: "5 minutes ago", or "just now" within the first
    minute (Django's timesince said "0 minutes")."""
    if not value:
        return ""
    if timezone.now() - value < datetime.timedelta(minutes=1):
        return _("just now")
    return _("%(since)s ago") % {"since": timesince(value)}


@register.filter
def role_label(role, function="") -> str:
    """`{{ d.role|role_label:d.function }}`: models.role_label ("Approver — Legal")."""
    return models_role_label(role, function or "")


@register.filter
def parse_iso(value):
    """An ISO 8601 time kept in an entry's data, as a datetime (None when it is not one)."""
    try:
        return datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# Django's month letters: the page's script gets the twelve names of each one the format
# uses, as Django writes them (French "fév.", where the browser's Intl writes "févr.").
_MONTH_LETTERS = "bEFMN"


@register.simple_tag
def date_format_attrs(name: str = "SHORT_DATETIME_FORMAT"):
    """`data-date-format` and `data-months` for a script that re-writes server times in the
    viewer's zone (static/js/live.js): the named format of the active language and the
    month names it uses, so the script writes exactly what the server writes."""
    pattern = formats.get_format(name)
    letters = {
        c for i, c in enumerate(pattern) if c in _MONTH_LETTERS and pattern[i - 1 : i] != "\\"
    }
    months = {
        c: [dateformat.format(datetime.date(2000, m, 1), c) for m in range(1, 13)]
        for c in sorted(letters)
    }
    return format_html(
        'data-date-format="{}" data-months="{}"', pattern, json.dumps(months, ensure_ascii=False)
    )
