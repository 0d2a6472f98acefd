"""No code path sends a message except through the outbox (issue 18): outside
incidents/outbox/, no module imports Django's mail sending, smtplib, or Apprise's sender.
The notifications app may use Apprise to parse a chat address (never to send): it is named
here with that reason."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("crisiscell", "incidents", "statements", "demo")
SENDERS = ("django.core.mail", "smtplib", "apprise")
# Where a sender's module may be imported, and why.
ALLOWED = {
    Path("incidents/outbox"): "the outbox delivers every message",
    Path("incidents/notifications/chat.py"): "parses a chat address to validate it; never sends",
}


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def allowed(relative: Path) -> bool:
    return any(relative == place or place in relative.parents for place in ALLOWED)


def test_nothing_outside_the_outbox_imports_a_way_to_send():
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or allowed(relative):
                continue
            for module in imported_modules(path):
                if any(module == s or module.startswith(s + ".") for s in SENDERS):
                    offenders.append(f"{relative}: {module}")
    assert offenders == []
