"""Extension points: how the apps built on incidents (statements, evidence, playbooks) plug
into the incident room and its WebSocket without the incidents core importing them.

The layering (docs/architecture.md, checked by import-linter in `make lint`) is
`incidents <- statements <- playbooks` and `incidents <- evidence`: an app may import the
ones below it, never above. Where the core must show or check something an app above it
owns, that app registers a function here from its `AppConfig.ready()`.
"""

from collections.abc import Callable

# Room panels: each provider returns the template context its panel needs,
# `provider(request, incident) -> dict`, merged into the incident room's context.
_room_panels: list[Callable] = []

# Presence: what people may be shown editing (statements). `may_edit(user, incident)` says
# whether the person may edit at all, `editable(incident_id, subject_id)` whether that
# subject of the incident can still be edited. Without them, nobody is shown editing.
_editing: dict[str, Callable] = {}


def register_room_panel(provider: Callable) -> None:
    if provider not in _room_panels:
        _room_panels.append(provider)


def room_panels_context(request, incident) -> dict:
    """The context of every registered room panel, in registration order."""
    context: dict = {}
    for provider in _room_panels:
        context.update(provider(request, incident))
    return context


def register_editing(*, may_edit: Callable, editable: Callable) -> None:
    _editing.update(may_edit=may_edit, editable=editable)


def may_edit(user, incident) -> bool:
    """Whether `user` may edit this incident's subjects (statements) at all."""
    return bool(_editing) and _editing["may_edit"](user, incident)


def is_editable(incident_id: int, subject_id: int) -> bool:
    """Whether that subject (a statement) of the incident can still be edited."""
    return bool(_editing) and _editing["editable"](incident_id, subject_id)
