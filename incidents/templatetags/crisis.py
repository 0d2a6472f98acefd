from django import template
from django.core.exceptions import FieldDoesNotExist

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
