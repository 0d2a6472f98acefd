"""Template filters of the statements app."""

from django import template

from statements.models import policy_label as _policy_label

register = template.Library()


@register.filter
def policy_label(name) -> str:
    """An approval policy's name as pages show it (models.policy_label: a stock policy's in
    the reader's language), for names kept in timeline data."""
    return _policy_label(str(name or ""))
