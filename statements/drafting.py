"""Where "Start from a template" finds its templates.

Statements do not own templates: a playbook copies its templates into the incident when it
is applied. The playbooks app registers its two functions here (from its AppConfig), so
the statement editor and the API can offer templates without importing playbooks.
"""

from collections.abc import Callable

_source: dict[str, Callable] = {}


def register_template_source(*, templates_of: Callable, draft: Callable) -> None:
    """`templates_of(incident)` -> the incident's templates (objects with id, name, kind,
    channel, language, text); `draft(incident, template_id, mention_values=None)` ->
    {"kind", "channel", "language", "text"} rendered for a new draft, or None when the
    incident has no such template. `mention_values` fill a reply template's placeholders
    ({"author.handle": ...}); one empty refuses to render (InvalidInput naming it)."""
    _source.update(templates_of=templates_of, draft=draft)


def templates_of(incident) -> list:
    return list(_source["templates_of"](incident)) if _source else []


def draft_from_template(incident, template_id: int, mention_values=None) -> dict | None:
    return _source["draft"](incident, template_id, mention_values) if _source else None
