"""Playbook -> JSON-ready dict, and the stable text written to files."""

import json
from datetime import date

from django.db.models import Prefetch, prefetch_related_objects

from ..models import Playbook, PlaybookPolicy
from .spec import FORMAT, FORMAT_VERSION, PLAYBOOK_FIELDS, SECTIONS

CONTENTS = [
    "steps",
    "templates",
    Prefetch("policies", queryset=PlaybookPolicy.objects.select_related("policy")),
    "contacts",
    "advice",
]


def _json_value(value):
    return value.isoformat() if isinstance(value, date) else value


def json_row(instance, fields) -> dict:
    return {name: _json_value(getattr(instance, name)) for name in fields}


def export_playbook(playbook: Playbook) -> dict:
    """The playbook as a JSON-ready dict (see the package's docstring)."""
    prefetch_related_objects([playbook], *CONTENTS)  # no-op when the caller prefetched
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **json_row(playbook, PLAYBOOK_FIELDS),
    }
    for key, (_model, fields, _sort) in SECTIONS.items():
        data[key] = [json_row(row, fields) for row in getattr(playbook, key).all()]
    data["policies"] = [
        {"severity": row.severity, "policy": row.policy.name} for row in playbook.policies.all()
    ]
    return data


def export_playbooks(playbooks) -> list[dict]:
    """Several playbooks with a fixed number of queries, whatever their number."""
    playbooks = list(playbooks)
    prefetch_related_objects(playbooks, *CONTENTS)
    return [export_playbook(playbook) for playbook in playbooks]


def dumps(data) -> str:
    """Stable, readable text for version control: keys in format order, UTF-8, indented."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
