"""The apps' layering (docs/architecture.md, .importlinter): the contract lists every module
of the incidents core, and migrations depend only on the apps below theirs."""

import configparser
import pkgutil
from pathlib import Path

from django.apps import apps
from django.db.migrations.loader import MigrationLoader

import incidents

ROOT = Path(__file__).resolve().parent.parent
# Lower number = lower layer: an app may depend on a lower or equal layer only.
LAYER = {
    "incidents": 0,
    "notifications": 1,
    "statements": 2,
    "evidence": 3,
    "publishing": 3,
    "playbooks": 3,
    "replies": 4,  # above evidence (it captures a mention's pages) and publishing
    "postmortems": 5,  # reads every app below it (docs/architecture.md, "Post-mortem")
    "integrity": 6,
    "crisiscenter": 4,  # above statements and playbooks (a playbook's dark site)
}
# Written before the split, when the playbook tables were the incidents app's (they refer
# to statements' approval policies). Kept as history: existing databases applied them.
HISTORY = {
    (
        ("incidents", "0004_playbooks_and_tasks"),
        ("statements", "0003_append_only_revisions_and_reviews"),
    )
}


def test_the_core_contract_names_every_module_of_the_core():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    listed = set(config["importlinter:contract:core"]["source_modules"].split())
    nested_apps = {
        config.name for config in apps.get_app_configs() if config.name.startswith("incidents.")
    }
    core = {
        f"incidents.{module.name}"
        for module in pkgutil.iter_modules(incidents.__path__)
        if f"incidents.{module.name}" not in nested_apps and module.name != "__init__"
    }
    assert core == listed


def test_migrations_depend_only_on_lower_apps():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    upward = set()
    for app, name in graph.nodes:
        if app not in LAYER:
            continue
        for parent in graph.node_map[(app, name)].parents:
            other = parent.key[0]
            if other in LAYER and LAYER[other] > LAYER[app]:
                upward.add(((app, name), parent.key))
    assert upward == HISTORY
