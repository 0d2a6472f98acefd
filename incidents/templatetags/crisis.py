import functools
from importlib import import_module

import nh3
from django import template
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.safestring import mark_safe

from ..models import Incident

register = template.Library()


@functools.cache
def _enumeration(name: str):
    app_label, enumeration = name.split(".")
    module = import_module(f"{apps.get_app_config(app_label).name}.choices")
    return getattr(module, enumeration)


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
