"""Extension points: how the apps built on incidents (statements, evidence, playbooks) plug
into the incident room and its WebSocket without the incidents core importing them.

The layering (docs/architecture.md, checked by import-linter in `make lint`) is
`incidents <- statements <- playbooks` and `incidents <- evidence`: an app may import the
ones below it, never above. Where the core must show or check something an app above it
owns, that app registers a function here from its `AppConfig.ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass

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


# The committee roster of an incident (the playbook's crisis committee): who should be in
# the cell, with which role and approver function, and who stands in for them. Statements
# use it to name whom to add when a policy step has nobody, and to escalate an approval
# that is late; the lead staffs the cell from it. Registered by the playbooks app.
@dataclass(frozen=True)
class RosterEntry:
    """One person of the roster. `user` is the site account matched to `email` (None when
    the person has no account yet); `backup_user` likewise for `backup_email`."""

    name: str
    email: str = ""
    role: str = ""  # a cell role (incidents.choices.Role) or ""
    function: str = ""  # an approver function (incidents.choices.ApproverFunction) or ""
    user: object = None
    backup_name: str = ""
    backup_email: str = ""
    backup_user: object = None


_roster: list[Callable] = []


def register_roster(provider: Callable) -> None:
    """`provider(incident) -> list[RosterEntry]`."""
    if provider not in _roster:
        _roster.append(provider)


def roster_of(incident) -> list[RosterEntry]:
    """The incident's roster, in the order its providers give it ([] without a playbook)."""
    return [entry for provider in _roster for entry in provider(incident)]


# Timeline followers: what an app above does when an entry is written, e.g. the playbooks
# complete the task "Publish the holding statement" when a holding statement is published.
# `follower(entry, incident)` is called by `actions.timeline_record` in the same
# transaction, under the incident lock, right after the entry is written; it may write
# through actions itself (its own entries are followed too). Not a signal: registered
# explicitly, called in registration order, and an error rolls the whole action back.
_timeline_followers: list[Callable] = []


def register_timeline_follower(follower: Callable) -> None:
    """`follower(entry: TimelineEntry, incident: Incident) -> None`."""
    if follower not in _timeline_followers:
        _timeline_followers.append(follower)


def follow_timeline(entry, incident) -> None:
    """Hand a newly written entry to every registered follower, in registration order."""
    for follower in _timeline_followers:
        follower(entry, incident)


# Warnings about a member of the cell that the cell panel shows beside their name, e.g.
# "E-mail not delivered: refused by the mail server" (so someone phones them). Registered by
# the notifications app; `provider(incident) -> {user_id: [text, ...]}`.
_member_warnings: list[Callable] = []


def register_member_warnings(provider: Callable) -> None:
    if provider not in _member_warnings:
        _member_warnings.append(provider)


def member_warnings(incident) -> dict[int, list[str]]:
    """Every provider's warnings, merged per user id."""
    merged: dict[int, list[str]] = {}
    for provider in _member_warnings:
        for user_id, texts in provider(incident).items():
            merged.setdefault(user_id, []).extend(texts)
    return merged


# The cell changed: the apps above react inside the same transaction (tell people of the
# work handed to them, check that no statement now waits on nobody). `hook(incident,
# actor=, started=[Membership], ended=[Membership])`: `started` are the memberships the
# action opened (a new member, the same person in a new role, a new lead), `ended` the ones
# it closed. Called by the cell's actions under the incident lock. Registered by statements.
_cell_changed: list[Callable] = []


def register_cell_changed(hook: Callable) -> None:
    if hook not in _cell_changed:
        _cell_changed.append(hook)


def cell_changed(incident, *, actor, started=(), ended=()) -> None:
    for hook in _cell_changed:
        hook(incident, actor=actor, started=list(started), ended=list(ended))


# What the incident's playbook says about answering people, read by the reply queue
# (playbooks and the reply queue are siblings: neither imports the other). Registered by the
# playbooks app, from the incident's copy of its playbook (applying copies it: editing the
# playbook later changes no running incident).
#
# Handling advice: `provider(incident) -> {author_type: {language: text}}`, only the types
# and languages (ISO 639-1: "en", "fr") the playbook wrote; anything missing means "the
# default advice". Ambassadors: `provider(incident) -> list[Ambassador]`, the people of the
# incident's contacts who may defend the brand, with their handle.
@dataclass(frozen=True)
class Ambassador:
    """A known ambassador of the incident: `contact_id` names the row of the room's contacts
    panel; `handle` as written there ("@Dana.bsky.social"); `platform` a Platform value,
    or "" when the contact does not say (then any platform matches)."""

    contact_id: int
    name: str
    handle: str
    platform: str = ""


_handling_advice: list[Callable] = []
_ambassadors: list[Callable] = []


def register_handling_advice(provider: Callable) -> None:
    """`provider(incident) -> {author_type: {language: text}}`."""
    if provider not in _handling_advice:
        _handling_advice.append(provider)


def handling_advice(incident) -> dict[str, dict[str, str]]:
    """The incident's own advice per author type and language ({} without a playbook, or
    when it wrote none). Where two providers write the same type, the first registered wins."""
    merged: dict[str, dict[str, str]] = {}
    for provider in _handling_advice:
        for author_type, texts in provider(incident).items():
            for language, text in texts.items():
                merged.setdefault(author_type, {}).setdefault(language, text)
    return merged


def register_ambassadors(provider: Callable) -> None:
    """`provider(incident) -> list[Ambassador]`."""
    if provider not in _ambassadors:
        _ambassadors.append(provider)


def ambassadors_of(incident) -> list[Ambassador]:
    """The incident's known ambassadors, in the order their providers give them."""
    return [ambassador for provider in _ambassadors for ambassador in provider(incident)]


# What an app above says against moving an incident to a status, e.g. the crisis center
# refuses closing an incident whose public page is still live (it would go on saying the
# crisis is ongoing). `guard(incident, status) -> str | None`: the refusal in plain words,
# or None. Asked by `rules.require_transition` on the locked row (the action's guard): a
# refusal is a 409 for the room and the API alike.
_transition_guards: list[Callable] = []


def register_transition_guard(guard: Callable) -> None:
    if guard not in _transition_guards:
        _transition_guards.append(guard)


def transition_refusal(incident, status: str) -> str | None:
    """The first registered guard's refusal of this move, or None."""
    for guard in _transition_guards:
        refusal = guard(incident, status)
        if refusal:
            return str(refusal)
    return None


# What an app above still has open in an incident, said to the lead who resolves or closes
# it ("2 statements wait for approval", "the crisis page is live"): the move is confirmed
# knowing them, never refused for them (transition guards refuse). `provider(incident) ->
# list of short sentences`, at most a few queries each.
_loose_ends: list[Callable] = []


def register_loose_ends(provider: Callable) -> None:
    if provider not in _loose_ends:
        _loose_ends.append(provider)


def loose_ends_of(incident) -> list[str]:
    """Every registered provider's loose ends, in registration order."""
    return [str(end) for provider in _loose_ends for end in provider(incident)]
