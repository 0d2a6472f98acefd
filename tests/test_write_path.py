"""The one write path (docs/architecture.md): the database is written by the apps' actions
only. Every other module that calls a model's or a queryset's write method is listed below
with the reason; a new one fails here until it goes through an action (or is listed, with a
reason a reviewer can judge)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRITES = {
    "save",
    "delete",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
}
# Calls on these are queryset or manager calls (`Model.objects.filter(...).update(...)`);
# `save` and `delete` are counted on anything (an instance's).
QUERYSET = {"objects", "_base_manager", "_default_manager", "filter", "exclude", "all"}
QUERYSET |= {"select_for_update", "order_by", "values"}

# (module, enclosing function): why it may write.
ALLOWED = {
    ("incidents/chains.py", "anchor"): "a chain checkpoint, in the appending action's transaction",
    ("incidents/chains.py", "open_chain"): "likewise, when an action opens a chain",
    ("incidents/crisiscenter/promises.py", "make"): "called by the crisis center's actions only",
    ("incidents/crisiscenter/promises.py", "keep"): "likewise",
    ("incidents/crisiscenter/promises.py", "promise_remind"): "the promises' sweep (an action)",
    ("incidents/crisiscenter/promises.py", "promise_lapse"): "likewise",
    ("incidents/playbooks/defaults.py", "_ensure_policies"): "the default playbooks' install",
    ("incidents/models.py", "save"): "a model's own save() (fields it derives, no side effect)",
    ("incidents/evidence/models.py", "save"): "likewise",
    ("incidents/evidence/display.py", "_jpeg"): "Pillow's Image.save into memory",
    ("incidents/presence.py", "release"): "Redis, not the database",
}


def _is_write(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in WRITES:
        return False
    if _on_cache(func.value):
        return False
    if func.attr in {"save", "delete"}:
        return True
    node = func.value
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Attribute) and node.attr in QUERYSET:
            return True
        node = node.func if isinstance(node, ast.Call) else node.value
    return False


def _on_cache(node) -> bool:
    """Django's cache (`cache.delete(...)`, `caches["imports"].delete(...)`): not the
    database."""
    if isinstance(node, ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name) and node.id in {"cache", "caches"}


def _writes(path: Path):
    """(enclosing function name, line) of each write call in the module."""
    tree = ast.parse(path.read_text())
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and _is_write(node):
                    yield function.name, node.lineno


def _modules():
    for path in sorted((ROOT / "incidents").rglob("*.py")) + sorted(
        (ROOT / "crisiscell").rglob("*.py")
    ):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or path.name == "actions.py" or "/actions/" in relative:
            continue
        yield relative, path


def test_only_the_actions_write_the_database():
    found = set()
    for relative, path in _modules():
        for function, line in _writes(path):
            if (relative, function) not in ALLOWED:
                found.add(f"{relative}:{line} in {function}()")
    assert sorted(found) == []


def test_every_allowed_writer_still_writes():
    """A listed exception that no longer writes is dropped from the list (it would let a
    later write through unseen)."""
    writers = {(relative, fn) for relative, path in _modules() for fn, _line in _writes(path)}
    assert sorted(set(ALLOWED) - writers) == []
