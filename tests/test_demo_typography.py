"""French typography in data, not in the catalogue: the default playbooks
(incidents/playbooks/default_playbooks/*.json) and the demo (`load_demo`) write their French
texts with a no-break space before : and a narrow one before ; ! ? and inside « », the one
rule of crisiscell/typography.py (tests/test_french_typography.py checks the catalogue)."""

import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from crisiscell.typography import NBSP, NNBSP, french_spacing
from demo.french import typeset
from incidents.playbooks import defaults

PLAYBOOKS = sorted(Path(defaults.DIRECTORY).glob("*.json"))


def texts(data):
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from texts(value)
    elif isinstance(data, list):
        for value in data:
            yield from texts(value)


@pytest.mark.parametrize("path", PLAYBOOKS, ids=lambda path: path.name)
def test_the_default_playbooks_obey_french_typography(path):
    found = list(texts(json.loads(path.read_text(encoding="utf-8"))))
    assert len(found) > 50
    assert [text for text in found if french_spacing(text) != text] == []
    assert f"{NBSP}:" in "".join(found)


def test_typeset_applies_the_rule_to_every_text_of_a_constant():
    data = {"title": "Rumeur : « x »", "steps": [("entry", "Vrai ?", 3)], "n": 1}
    assert typeset(data) == {
        "title": f"Rumeur{NBSP}: «{NNBSP}x{NNBSP}»",
        "steps": [("entry", f"Vrai{NNBSP}?", 3)],
        "n": 1,
    }
    assert typeset("Rumour: plants closing / {{ brand }} : ok") == (
        f"Rumour: plants closing / {{{{ brand }}}}{NBSP}: ok"
    )


@pytest.mark.django_db
def test_every_text_the_demo_stores_obeys_french_typography(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    breakable, french = [], 0
    for model in apps.get_models():
        if model._meta.app_label in {"auth", "contenttypes", "sessions", "admin"}:
            continue
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField)
        ]
        if not fields:
            continue
        for row in model._default_manager.values_list(*fields)[:2000]:
            for value in row:
                if value and french_spacing(value) != value:
                    breakable.append((model.__name__, value[:120]))
                french += bool(value) and (NBSP in value or NNBSP in value)
    assert breakable == []
    assert french > 50  # the French texts are there, typeset
