"""The listening figures in templates: {% load listening %}, then `|expected` and
`|signal_volume` and `|signal_reason` (incidents/listening/figures.py), `|terms` (a
watch's terms in its summary), `|platform_names` (the platforms whose posts may be
missing), `|marked:search` (a post's words that a search found), `|unbroken_times` (an
import's message, its ISO 8601 times kept on one line) and `|choice_links:mapping` (the
choices an import's message names, as links to them)."""

import re

from django import template
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from incidents.listening import figures
from incidents.models import Platform

register = template.Library()


@register.filter
def expected(value) -> str:
    return figures.expected(value)


@register.filter
def signal_volume(signal) -> str:
    return figures.volume(signal)


@register.filter
def signal_reason(trigger) -> str:
    return figures.reason(trigger)


# Terms a watch's summary lists per kind (a watch holds up to MAX_TERMS of 100 characters).
TERMS_SHOWN = 30


@register.filter
def terms(values, prefix="") -> str:
    """A watch's terms as its summary lists them: "#a, #b" with `prefix`, the first
    TERMS_SHOWN then "and N more"."""
    shown = ", ".join(f"{prefix}{value}" for value in values[:TERMS_SHOWN])
    more = len(values) - TERMS_SHOWN
    if more > 0:
        shown += " " + ngettext("and %(n)s more", "and %(n)s more", more) % {"n": more}
    return shown


# Platforms a notice of missing posts names (listening/_source_notice.html): one line.
PLATFORMS_NAMED = 3


@register.filter
def platform_names(values) -> str:
    """Platform values as a notice names them: "Bluesky, Mastodon", the first
    PLATFORMS_NAMED then "and N more"."""
    values = list(values)
    shown = ", ".join(str(Platform(value).label) for value in values[:PLATFORMS_NAMED])
    more = len(values) - PLATFORMS_NAMED
    if more > 0:
        shown += " " + ngettext("and %(n)s more", "and %(n)s more", more) % {"n": more}
    return shown


@register.filter
def marked(text, search) -> str:
    """The text, escaped, with what `search` (matching.TextSearch, or None) found in it
    inside <mark>; the text unchanged without a search (escaped as usual then)."""
    if not search:
        return text
    text, pieces, at = str(text), [], 0
    for start, end in search.spans(text):
        pieces.append((text[at:start], text[start:end]))
        at = end
    return format_html_join("", "{}<mark>{}</mark>", pieces) + escape(text[at:])


# An ISO 8601 date, with its time, fraction and offset when it has them, as an import's
# messages write what to put in the file ("2026-10-25T02:30+02:00").
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)?")


@register.filter
def unbroken_times(text) -> str:
    """An import's message, escaped, its ISO 8601 dates and times each on one line: a phone
    broke "2026-10-25T02:30+02:00" at its hyphens, over two lines."""
    text, pieces, at = str(text), [], 0
    for found in _ISO_TIME.finditer(text):
        pieces.append((text[at : found.start()], found[0]))
        at = found.end()
    return format_html_join("", '{}<span class="nowrap">{}</span>', pieces) + escape(text[at:])


@register.filter
def choice_links(text, mapping) -> str:
    """An import's message (escaped, or already safe: |unbroken_times) with the name of each
    choice of the form `mapping` it names (forms.MappingForm.NAMED_IN_MESSAGES: "Import rows
    with an unknown platform as Other") as a link to that choice, on the same page: on a
    phone it is screens above the refused rows. The text unchanged without a form (the
    report has none)."""
    if not mapping:
        return text
    html = str(conditional_escape(text))
    for name in mapping.NAMED_IN_MESSAGES:
        field = mapping[name]
        label = escape(str(field.label))
        html = html.replace(label, format_html('<a href="#{}">{}</a>', field.id_for_label, label))
    return mark_safe(html)  # noqa: S308 (escaped above; the links' parts by format_html)
