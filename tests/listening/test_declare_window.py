"""Declaring from a signal: the 409 of a signal already declared names its incident only to
those who may see it, and a closed signal's window ends when it closed."""

import pytest

from tests.helpers import assert_error

from .conftest import grant
from .test_detection import history, signal  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_the_409_names_the_incident_only_to_its_cell(signal, reader, make_user, api):  # noqa: F811
    declared = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    incident_id = declared.json()["incident"]
    again = api.as_user(reader).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    assert_error(again, 409)
    assert again.json()["incident"] == incident_id  # the declarer leads its cell
    stranger = grant(make_user("stranger"), "view_mention")
    refused = api.as_user(stranger).post(f"/api/signals/{signal.pk}/declare/", {}, format="json")
    assert_error(refused, 409)
    assert "incident" not in refused.json()
