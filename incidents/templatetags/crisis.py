import nh3
from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.safestring import mark_safe

from ..models import EntryKind, Incident, Role, Status

register = template.Library()


@register.filter
def role_label(value: str) -> str:
    return Role(value).label if value in Role.values else ""


@register.filter
def status_label(value: str) -> str:
    return Status(value).label if value in Status.values else value


@register.filter
def kind_label(value: str) -> str:
    return EntryKind(value).label if value in EntryKind.values else value


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
