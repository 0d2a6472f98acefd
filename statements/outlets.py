"""Where the statement page shows what an app above statements offers for one statement
(posting it through a platform's API: incidents.publishing). Statements never import those
apps: each registers a section from its `AppConfig.ready()`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.safestring import SafeString

_sections: list[Callable] = []


def register_page_section(section: Callable) -> None:
    """`section(request, statement, available_actions) -> str`: HTML for the page's side
    column, under the publish box ("" to show nothing). It must escape what it renders
    (a template does) and cost a bounded number of queries."""
    if section not in _sections:
        _sections.append(section)


def page_sections(request, statement, available_actions: list[str]) -> list[SafeString]:
    return [
        html for section in _sections if (html := section(request, statement, available_actions))
    ]


_shown_on_approval: list[Callable] = []

# Where shown_on_approval keeps its answer on a statement: a list's statements are read
# together (note_shown_on_approval), so that the rules cost no query per row.
_NOTED = "_shown_on_approval"


_shown_filters: list[Callable] = []


def register_shown_on_approval(shown_among: Callable, shown: Callable) -> None:
    """`shown_among(statements) -> set of their ids`: those the registering app shows to
    the public as soon as they are approved (a crisis page's sections), so nobody publishes
    them: no Publish action, no "waiting for … to publish it" line, no "ready to publish"
    hand-off. At most one query, none when no statement is of its kind. `shown() -> Q`:
    the same statements as a filter on Statement (the one rule `shown_among` applies),
    for a list that must leave them out before it is cut ("Approved, to publish")."""
    if shown_among not in _shown_on_approval:
        _shown_on_approval.append(shown_among)
        _shown_filters.append(shown)


def shown_on_approval_filter() -> Q:
    """The statements any app shows on approval, as a filter on Statement."""
    found = Q(pk__in=[])
    for shown in _shown_filters:
        found |= shown()
    return found


def note_shown_on_approval(statements) -> None:
    """Read the answer for a list of statements at once (one query per registered app)."""
    statements = [s for s in statements if _NOTED not in s.__dict__]
    shown = set()
    for shown_among in _shown_on_approval:
        shown |= shown_among(statements) if statements else set()
    for statement in statements:
        statement.__dict__[_NOTED] = statement.pk in shown


def shown_on_approval(statement) -> bool:
    if _NOTED not in statement.__dict__:
        note_shown_on_approval([statement])
    return statement.__dict__[_NOTED]


@dataclass(frozen=True)
class Awaiting:
    """One thing waiting for someone's sign-off, as "My approvals" lists it."""

    kind: str  # what it is, for the API ("postmortem")
    what: str  # "Post-mortem (revision 2)"
    incident_id: int
    incident: str  # the incident's title
    revision: int  # the revision to sign
    url: str  # its page
    api_url: str  # where the API reads and reviews it
    since: datetime | None  # when it was submitted


_awaiting: list[Callable] = []
# What one provider returns at most, oldest first: "My approvals" and the API's `others`
# stay bounded.
MAX_AWAITING = 100


def register_awaiting_approval(provider: Callable) -> None:
    """`provider(user) -> list of Awaiting`: what else than statements waits for this
    person's sign-off now (a post-mortem), shown in "My approvals" under the statements
    and in `GET /api/approvals/` (`others`). At most MAX_AWAITING, oldest first; a bounded
    number of queries."""
    if provider not in _awaiting:
        _awaiting.append(provider)


def awaiting_approval(user) -> list:
    return [item for provider in _awaiting for item in provider(user)]


_publish_guards: list[Callable] = []
_refused_filters: list[Callable] = []

# Where publish_refusal keeps its answer on a statement (note_publish_refusals).
_REFUSAL = "_publish_refusal"


def register_publish_guard(refusals_among: Callable, refused: Callable) -> None:
    """`refusals_among(statements) -> {id: why}`: those of these approved statements that
    the registering app refuses be published now, and why (a crisis page update while the
    page is not live: nothing public would show it, yet it met the first-response
    deadline). The rules then offer no Publish action, nobody is told it is ready to
    publish, and the statement's page says why. At most one query, none when no statement
    is of its kind. `refused() -> Q`: the same statements as a filter on Statement, for a
    list that must leave them out before it is cut ("Approved, to publish")."""
    if refusals_among not in _publish_guards:
        _publish_guards.append(refusals_among)
        _refused_filters.append(refused)


def publish_refused_filter() -> Q:
    """The statements any app refuses be published now, as a filter on Statement."""
    found = Q(pk__in=[])
    for refused in _refused_filters:
        found |= refused()
    return found


def note_publish_refusals(statements) -> None:
    """Read the answer for a list of statements at once (one query per registered app)."""
    statements = [s for s in statements if _REFUSAL not in s.__dict__]
    refusals: dict[int, str] = {}
    for refusals_among in _publish_guards:
        for pk, why in (refusals_among(statements) if statements else {}).items():
            refusals.setdefault(pk, str(why))
    for statement in statements:
        statement.__dict__[_REFUSAL] = refusals.get(statement.pk)


def publish_refusal(statement) -> str | None:
    """Why the statement may not be published now, whoever asks (None: nothing refuses)."""
    if _REFUSAL not in statement.__dict__:
        note_publish_refusals([statement])
    return statement.__dict__[_REFUSAL]


def note_for_rules(statements) -> None:
    """What the rules ask the apps above about each statement of a list, read at once:
    a list's rules then cost no query per row."""
    note_shown_on_approval(statements)
    note_publish_refusals(statements)
