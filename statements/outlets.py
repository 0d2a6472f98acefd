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
