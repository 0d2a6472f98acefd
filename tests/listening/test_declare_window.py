"""Declaring from a signal: the 409 of a signal already declared names its incident only to
those who may see it, and a closed signal's window ends when it closed."""

from datetime import timedelta

import pytest

from incidents.listening import actions
from incidents.listening.models import Mention
from tests.helpers import assert_error

from .conftest import NOW, grant, ingest, post

pytestmark = pytest.mark.django_db


def test_the_409_names_the_incident_only_to_its_cell(signal, reader, make_user, api):
    declared = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    incident_id = declared.json()["incident"]
    again = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    assert_error(again, 409)
    assert again.json()["incident"] == incident_id  # the declarer leads its cell
    stranger = grant(make_user("stranger"), "view_mention")
    refused = api.as_user(stranger).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    assert_error(refused, 409)
    assert "incident" not in refused.json()


def test_a_closed_signal_attaches_only_what_was_posted_before_it_closed(signal, reader):
    closed_at = NOW + timedelta(minutes=30)
    actions.signal_close(signal=signal, now=closed_at)
    text = "Maison Lumière encore une livraison ratée"
    after = [(closed_at + timedelta(minutes=10 + i)).isoformat() for i in range(3)]
    ingest([post(f"late{i}", text=text, posted_at=at) for i, at in enumerate(after)])
    assert Mention.objects.filter(external_id__startswith="late").count() == 3
    incident = actions.signal_declare(
        signal=signal, actor=reader, now=closed_at + timedelta(hours=1)
    )
    attached = set(Mention.objects.filter(incident=incident).values_list("external_id", flat=True))
    assert len(attached) == 30 and not any(i.startswith("late") for i in attached)
