"""Where the statement page shows what an app above statements offers for one statement
(posting it through a platform's API: incidents.publishing). Statements never import those
apps: each registers a section from its `AppConfig.ready()`.
"""

from collections.abc import Callable

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


def register_shown_on_approval(check: Callable) -> None:
    """`check(statement) -> bool`: the registering app shows this statement to the public
    as soon as it is approved (a crisis page's section), so nobody publishes it: its page
    names nobody to wait for and its approval is no "ready to publish" hand-off. At most
    one query."""
    if check not in _shown_on_approval:
        _shown_on_approval.append(check)


def shown_on_approval(statement) -> bool:
    return any(check(statement) for check in _shown_on_approval)
