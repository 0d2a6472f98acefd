"""What a statement is bound to, shown at the head of its page by the app that binds it.

An app above statements may bind a statement to something of its own (the reply queue: an
individual reply to one mention). Statements never import those apps: each registers a
function here from its `AppConfig.ready()`, and the statement page shows what they render.
"""

from collections.abc import Callable

from django.utils.safestring import SafeString

_describers: list[Callable] = []


def register_binding(describe: Callable) -> None:
    """`describe(request, statement, available_actions) -> str`: HTML for the top of the
    statement page's main column ("" when the statement is not bound to anything of that
    app). It must escape what it renders (a template does) and cost a bounded number of
    queries (one, say)."""
    if describe not in _describers:
        _describers.append(describe)


def page_bindings(request, statement, available_actions: list[str]) -> list[SafeString]:
    """Each registered app's HTML for this statement, in registration order, empty ones
    left out."""
    return [
        html
        for describe in _describers
        if (html := describe(request, statement, available_actions))
    ]
