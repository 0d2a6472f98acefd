from django import template

from ..models import Channel, StatementKind, StatementStatus

register = template.Library()


@register.filter
def statement_kind_label(value: str) -> str:
    return StatementKind(value).label if value in StatementKind.values else value


@register.filter
def channel_label(value: str) -> str:
    return Channel(value).label if value in Channel.values else value


@register.filter
def statement_status_label(value: str) -> str:
    return StatementStatus(value).label if value in StatementStatus.values else value
