"""The listening figures in templates: {% load listening %}, then `|expected` and
`|signal_volume` and `|signal_reason` (incidents/listening/figures.py)."""

from django import template

from incidents.listening import figures

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
