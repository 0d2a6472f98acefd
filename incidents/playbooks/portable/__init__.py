"""Playbooks as JSON files: to keep them under version control, review them as text, and
carry them from one installation to another.

Format version 1, one object per playbook (a file may hold a list of them):

    {"format": "crisiscell.playbook", "format_version": 1,
     "name": ..., "description": ..., "categories": [...], "min_severity": 1,
     "max_severity": 4, "brand": ..., "version": 3, "last_reviewed_on": "2025-01-31",
     "is_active": true,
     "steps": [{"order", "title", "guidance", "role", "due_minutes", "repeat_minutes"}],
     "templates": [{"order", "name", "kind", "channel", "language", "author_type", "text"}],
     "policies": [{"severity": 3, "policy": "Legal, then communications"}],
     "contacts": [{"kind", "name", "role_title", ..., "notes", "order"}],
     "advice": [{"author_type": "troll", "text_en": ..., "text_fr": ...}]}

A template's `author_type` (the reply queue's author type a reply template answers; ""
for anyone) may be left out, as in files written before it existed.

No ids: approval policies are named (they must exist where the file is imported), rows are
listed in the order the admin shows them. Exporting what an import wrote gives the same
JSON back. An import checks everything first, with the admin's own rules, and reports
every problem at once; it writes in one transaction, so nothing half-imported remains.

- `spec`: the format's version, fields and errors;
- `export`: playbook -> dict -> text;
- `parse`: text -> dict -> unsaved, checked rows (nothing is written).

Writing is an action like every other write: `actions.playbooks_import`. This package is
the public surface the admin, the commands, the action and the default playbooks use.
"""

from .export import dumps, export_playbook, export_playbooks
from .parse import Parsed, parse_playbook, parse_playbooks, read_json, too_large_message
from .spec import (
    FORMAT,
    FORMAT_VERSION,
    MAX_IMPORT_BYTES,
    PLAYBOOK_FIELDS,
    POLICY_KEYS,
    SECTIONS,
    Imported,
    Outcome,
    PlaybookExists,
    PlaybookFileError,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_IMPORT_BYTES",
    "PLAYBOOK_FIELDS",
    "POLICY_KEYS",
    "SECTIONS",
    "Imported",
    "Outcome",
    "Parsed",
    "PlaybookExists",
    "PlaybookFileError",
    "dumps",
    "export_playbook",
    "export_playbooks",
    "parse_playbook",
    "parse_playbooks",
    "read_json",
    "too_large_message",
]
