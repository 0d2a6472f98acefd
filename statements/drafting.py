"""Where "Start from a template" finds its templates.

Statements do not own templates: a playbook copies its templates into the incident when it
is applied. The playbooks app registers its two functions here (from its AppConfig), so
the statement editor and the API can offer templates without importing playbooks.
"""

import re
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


# A fill-in left in a text ("[product]", "[your first name]"): square brackets around a few
# words holding a lower-case letter ("[UPDATE]" or "[EN]", in capitals, are tags; a
# "[text](link)" is a link).
_BLANK = re.compile(r"\[([^\[\]\n]{2,200})\](?!\()")
MAX_BLANKS = 10


def unfilled_blanks(text: str) -> list[str]:
    """The fill-ins a text still holds, each once, in order (at most MAX_BLANKS):
    ["[product]", "[your first name]"]. The statement page, its API and the approvers see
    them before the text goes out."""
    found: list[str] = []
    for match in _BLANK.finditer(text or ""):
        blank = match.group(0)
        if any(ch.islower() for ch in match.group(1)) and blank not in found:
            found.append(blank)
            if len(found) == MAX_BLANKS:
                break
    return found


def blanks_to_fill(statement) -> list[str]:
    """A statement's unfilled blanks while it may still change (none once published or
    withdrawn): what the page warns of and the API gives as `unfilled_blanks`."""
    return [] if statement.is_final else unfilled_blanks(statement.text)
